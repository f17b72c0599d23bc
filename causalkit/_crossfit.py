"""Cross-fitted nuisance predictions, written once for every design.

:func:`crossfit` takes named nuisance specifications, splits the units into
folds, fits a clone of each model on every training fold and predicts the
held-out fold. It returns out-of-fold predictions and the fitted fold models.

One joblib task is one (nuisance, fold) pair, so ``n_jobs`` spreads folds over
cores and ``with joblib.parallel_config(backend="dask"):`` spreads them over a
cluster with no code change. Randomness is fixed before dispatch (folds and the
models' seeds are drawn up front), so every backend gives the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import delayed, parallel_config
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from ._progress import parallel, progress
from .config import inner_threads, limit_threads

__all__ = ["Nuisance", "CrossFitResult", "crossfit", "make_folds", "check_folds"]

_METHODS = ("auto", "predict", "predict_proba", "decision_function")


@dataclass
class Nuisance:
    """One nuisance model to cross-fit.

    Parameters
    ----------
    model : estimator
        An unfitted scikit-learn estimator; it is cloned, never fitted in place.
    target : array-like of shape (n,)
        What the model learns.
    method : {"auto", "predict", "predict_proba", "decision_function"}
        ``"auto"`` uses ``predict_proba`` for classifiers, else ``predict``.
        For a binary target ``predict_proba`` returns P(last class), shape (n,).
    X : array-like, optional
        Features for this nuisance (default: the common ``X`` of :func:`crossfit`).
    fit_mask : bool array of shape (n,), optional
        Fit only on training-fold rows where the mask is true (e.g. treated units),
        but still predict every held-out row.
    predict_on : dict of str to array-like, optional
        Extra feature matrices to predict on with the same fold models, e.g.
        ``{"t1": X_with_treatment_1}``. Results are stored as ``"name@key"``.
    fit_params : dict, optional
        Extra keyword arguments for ``fit`` (row-wise arrays are subset per fold
        when their length equals n).
    """

    model: Any
    target: Any
    method: str = "auto"
    X: Any = None
    fit_mask: Any = None
    predict_on: Mapping[str, Any] | None = None
    fit_params: Mapping[str, Any] | None = None


@dataclass
class CrossFitResult:
    """Out-of-fold predictions and fitted fold models of :func:`crossfit`.

    Attributes
    ----------
    predictions : dict of str to ndarray
        ``predictions[name]`` holds each unit's held-out prediction;
        ``predictions["name@key"]`` the predictions on ``predict_on[key]``.
    models : dict of str to list
        The fitted model of each fold, per nuisance (empty when not kept).
    folds : list of (train, test) index arrays
    """

    predictions: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    folds: list = field(default_factory=list)

    def __getitem__(self, key):
        return self.predictions[key]


def make_folds(n: int, cv=5, *, stratify=None, groups=None, random_state=None, X=None):
    """Split ``n`` units into folds; return a list of ``(train, test)`` index arrays.

    ``cv`` is a number of folds or a scikit-learn splitter. With an int, folds are
    grouped when ``groups`` is given, stratified when ``stratify`` is given, and
    shuffled with ``random_state`` otherwise.
    """
    if X is None:
        X = np.zeros((n, 1))
    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise ValueError(f"`cv` must be at least 2 folds; got {cv}.")
        if n < cv:
            raise ValueError(f"`cv`={cv} folds need at least {cv} units; got {n}. Lower `cv` or "
                             "collect more data.")
        if groups is not None:
            n_groups = len(np.unique(groups))
            if n_groups < cv:
                raise ValueError(f"`cv`={cv} folds need at least {cv} groups; got {n_groups}.")
            try:
                splitter = GroupKFold(n_splits=int(cv), shuffle=True, random_state=random_state)
            except TypeError:  # scikit-learn < 1.6 has no shuffling GroupKFold
                splitter = GroupKFold(n_splits=int(cv))
        elif stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            if counts.min() < cv:
                raise ValueError(
                    f"Stratified `cv`={cv} folds need at least {cv} units in every class; "
                    f"the smallest class has {counts.min()}. Lower `cv` or collect more data."
                )
            splitter = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=random_state)
        else:
            splitter = KFold(n_splits=int(cv), shuffle=True, random_state=random_state)
    else:
        splitter = check_cv(cv)
    y = stratify if stratify is not None else np.zeros(n)
    return [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, groups)]


def check_folds(folds, n: int) -> list:
    """Check that ``folds`` hold each of the ``n`` units out exactly once, never in its own
    training set; return them as a list of ``(train, test)`` integer arrays."""
    folds = [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in folds]
    if len(folds) < 2:
        raise ValueError(f"`cv` gave {len(folds)} fold(s); cross-fitting needs at least 2.")
    seen = np.zeros(n, dtype=np.int64)
    # Overlap by a boolean mask, O(n) per fold (np.intersect1d hashes both index sets: at
    # 10^6 rows that was half the fit of a linear-nuisance learner, growing super-linearly).
    in_test = np.zeros(n, dtype=bool)
    for k, (train, test) in enumerate(folds):
        if test.size == 0 or train.size == 0:
            raise ValueError(f"`cv` fold {k} has an empty training or test set; use fewer folds.")
        in_test[test] = True
        overlap = bool(in_test[train].any())
        in_test[test] = False
        if overlap:
            raise ValueError(
                f"`cv` fold {k} trains on {np.intersect1d(train, test).size} of its own test "
                "rows, so its predictions are not out-of-fold. Use a splitter whose training "
                "and test rows are disjoint (KFold, GroupKFold, StratifiedKFold).")
        np.add.at(seen, test, 1)
    if (seen > 1).any():
        raise ValueError(
            f"`cv` puts {int((seen > 1).sum())} unit(s) in more than one test fold; each unit "
            "must be held out exactly once. Use a splitter that partitions the units "
            "(KFold-like), not a repeated or shuffled-split one.")
    if (seen == 0).any():
        raise ValueError(
            f"`cv` leaves {int((seen == 0).sum())} unit(s) out of every test fold, so they get "
            "no out-of-fold prediction. Use a splitter that partitions the units (KFold-like).")
    return folds


def _accepts_sample_weight(model) -> tuple[bool, str]:
    if isinstance(model, Pipeline):
        last_name, last = model.steps[-1]
        if last is None or last == "passthrough":
            return False, ""
        ok, _ = _accepts_sample_weight(last)
        return ok, f"{last_name}__sample_weight"
    inner = getattr(model, "estimator", None)
    if inner is not None and not has_fit_parameter(model, "sample_weight"):
        return False, ""
    return has_fit_parameter(model, "sample_weight"), "sample_weight"


def _take(v, idx, n):
    if hasattr(v, "shape") and getattr(v, "shape", (None,))[0] == n:
        return v.iloc[idx] if hasattr(v, "iloc") else np.asarray(v)[idx]
    return v


def _non_numeric_columns(X) -> list:
    """Names of the DataFrame columns that are not plain numbers (categorical, strings)."""
    if not hasattr(X, "dtypes") or not hasattr(X, "columns"):
        return []
    import pandas as pd

    return [c for c, dt in X.dtypes.items()
            if isinstance(dt, pd.CategoricalDtype) or not (
                pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))]


def _rows(X, idx):
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


class _ConstantClassifier:
    """The fold model when every training row has the same class.

    Its probabilities are the known constant (1 for that class, 0 for the others), with
    the columns of the classes seen in the whole target. Some classifiers refuse one
    class (LogisticRegression); others accept it and return a single column, which would
    be misread as P(last class).
    """

    def __init__(self, classes, value):
        self.classes_ = np.asarray(classes)
        self.value_ = value

    def fit(self, X, y, **kwargs):  # pragma: no cover - never refitted
        return self

    def predict_proba(self, X):
        p = np.zeros((_n_rows(X), len(self.classes_)))
        p[:, int(np.flatnonzero(self.classes_ == self.value_)[0])] = 1.0
        return p

    def predict(self, X):
        return np.full(_n_rows(X), self.value_)

    def __repr__(self):
        return f"_ConstantClassifier(class={self.value_!r})"


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _predict(model, X, method, classes=None):
    if method == "predict_proba":
        p = np.asarray(model.predict_proba(X), dtype=float)
        seen = getattr(model, "classes_", None)
        if classes is not None and seen is not None and (
                len(seen) != len(classes) or not np.array_equal(np.asarray(seen), classes)):
            # the fold saw fewer classes than the target has: put each column in its place
            full = np.zeros((p.shape[0], len(classes)))
            full[:, np.searchsorted(classes, np.asarray(seen))] = p
            p = full
        return p[:, -1] if p.shape[1] == 2 else p
    if method == "decision_function":
        return model.decision_function(X)
    return model.predict(X)


def _fit_one(threads, name, model, *args):
    # Models left at n_jobs=None run sequentially inside a task, whatever backend the
    # task runs on (a Dask worker would otherwise hand them its own parallel config,
    # and threaded reductions sum in a varying order: last-bit differences). Inner
    # BLAS/OpenMP/torch threads follow the library's thread policy (causalkit.config).
    with parallel_config(backend="sequential"), limit_threads(threads):
        _cap_explicit_threads(model, threads)
        return _fit_one_task(name, model, *args)


def _cap_explicit_threads(model, threads):
    """LightGBM turns ``n_jobs`` None/-1 into an explicit thread count that threadpoolctl
    cannot lower; give its fold clone the policy's count instead (a positive ``n_jobs``
    the user set below the cap is kept)."""
    if threads is None or not hasattr(model, "get_params"):
        return
    params = model.get_params(deep=True)
    updates = {}
    for key, value in params.items():
        if key != "n_jobs" and not key.endswith("__n_jobs"):
            continue
        owner = model if key == "n_jobs" else params.get(key[: -len("__n_jobs")])
        if owner is None or not type(owner).__module__.startswith("lightgbm"):
            continue
        if value is None or value < 1 or value > threads:
            updates[key] = int(threads)
    if updates:
        model.set_params(**updates)


def _fit_one_task(name, model, X, y, train, test, fit_mask, predict_on, method, sample_weight,
                  fit_params, n, keep_model, classes=None):
    tr = train if fit_mask is None else train[fit_mask[train]]
    if tr.size == 0:
        raise ValueError(
            f"Nuisance '{name}' has no training rows in a fold (its fit mask selects none). "
            "Use fewer folds or check the treatment arms."
        )
    ytr = y[tr]
    if classes is not None and np.all(ytr == ytr[0]):
        # one class in this training fold (e.g. one-sided noncompliance): its probability
        # is known, 1 for that class and 0 for the others; no model is fitted.
        model = _ConstantClassifier(classes, ytr[0])
    else:
        kwargs = {k: _take(v, tr, n) for k, v in (fit_params or {}).items()}
        if sample_weight is not None:
            ok, key = _accepts_sample_weight(model)
            if ok:
                kwargs[key] = sample_weight[tr]
        try:
            model.fit(_rows(X, tr), ytr, **kwargs)
        except (ValueError, TypeError) as exc:
            cols = _non_numeric_columns(X)
            if not cols:
                raise
            raise TypeError(
                f"Nuisance '{name}' ({type(model).__name__}) could not be fitted on the "
                f"non-numeric column(s) {cols} of `X`: {exc} Give a model that encodes them "
                "(a ColumnTransformer with OneHotEncoder, HistGradientBoosting with "
                "categorical_features='from_dtype') or encode them before fitting.") from exc
    preds = {name: _predict(model, _rows(X, test), method, classes)}
    for key, Xk in (predict_on or {}).items():
        preds[f"{name}@{key}"] = _predict(model, _rows(Xk, test), method, classes)
    return name, test, preds, (model if keep_model else None)


def _resolve_method(model, method, name):
    if method not in _METHODS:
        raise ValueError(f"Nuisance '{name}': `method` must be one of {_METHODS}; got {method!r}.")
    if method == "auto":
        method = "predict_proba" if is_classifier(model) else "predict"
    if not hasattr(model, method):
        if method == "predict_proba":
            raise TypeError(
                f"Nuisance '{name}' needs class probabilities, but "
                f"{type(model).__name__} has no `predict_proba`. Pass a classifier such as "
                "LogisticRegression, or wrap it in CalibratedClassifierCV."
            )
        raise TypeError(f"Nuisance '{name}': {type(model).__name__} has no `{method}` method.")
    return method


def _seed_models(models: dict, random_state, n_folds: int):
    """Give every (nuisance, fold) clone a fixed seed when the user left it at None."""
    rng = check_random_state(random_state)
    seeded = {}
    for name in sorted(models):
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_folds)
        clones = []
        for f in range(n_folds):
            m = clone(models[name])
            if random_state is not None:
                params = m.get_params(deep=True)
                updates = {k: int(seeds[f]) for k, v in params.items()
                           if (k == "random_state" or k.endswith("__random_state")) and v is None}
                if updates:
                    m.set_params(**updates)
            clones.append(m)
        seeded[name] = clones
    return seeded


def crossfit(
    nuisances: Mapping[str, Nuisance],
    X=None,
    *,
    cv=5,
    folds=None,
    stratify=None,
    groups=None,
    sample_weight=None,
    n_jobs=None,
    random_state=None,
    keep_models: bool = True,
    verbose: bool = False,
) -> CrossFitResult:
    """Cross-fit named nuisance models; return out-of-fold predictions.

    Parameters
    ----------
    nuisances : dict of str to Nuisance
        What to fit, by name.
    X : array-like or DataFrame of shape (n, p), optional
        Common features (each :class:`Nuisance` may bring its own). A DataFrame is
        passed to the models as a DataFrame (each fold's rows by ``iloc``, with its
        column names and dtypes), any other input as given.
    cv : int or splitter, default 5
        Number of folds or a scikit-learn splitter.
    folds : list of (train, test), optional
        Precomputed folds; overrides ``cv``.
    stratify : array-like, optional
        Labels to stratify folds on (e.g. a binary treatment).
    groups : array-like, optional
        Cluster labels: a cluster never straddles folds.
    sample_weight : array-like, optional
        Passed to every model whose ``fit`` accepts it (a warning names the others).
    n_jobs : int or None
        joblib jobs over (nuisance, fold) pairs. Each task's inner BLAS/OpenMP/torch
        threads follow :mod:`causalkit.config` (by default ``cores // workers``).
    random_state : int or None
        Seeds the folds and every model left with ``random_state=None``.
    keep_models : bool
        Keep the fitted fold models in the result.
    verbose : bool, default False
        Show a progress bar (tqdm, on standard error) over the (nuisance, fold) fits.

    Returns
    -------
    CrossFitResult

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalkit._crossfit import Nuisance, crossfit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = X @ [1.0, -1.0] + rng.normal(size=200)
    >>> res = crossfit({"y": Nuisance(LinearRegression(), y)}, X, cv=3, random_state=0)
    >>> res.predictions["y"].shape, len(res.models["y"])
    ((200,), 3)
    """
    if not nuisances:
        raise ValueError("`nuisances` is empty; give at least one model to cross-fit.")
    n = None
    for name, nu in nuisances.items():
        Xn = nu.X if nu.X is not None else X
        if Xn is None:
            raise ValueError(f"Nuisance '{name}' has no features: pass `X` or `Nuisance(X=...)`.")
        if n is None:
            n = Xn.shape[0]
        if Xn.shape[0] != n or len(nu.target) != n:
            raise ValueError(f"Nuisance '{name}': features and target must both have {n} rows.")
    if folds is None:
        folds = make_folds(n, cv, stratify=stratify, groups=groups, random_state=random_state)
    folds = check_folds(folds, n)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    methods = {name: _resolve_method(nu.model, nu.method, name) for name, nu in nuisances.items()}
    if sw is not None:
        for name, nu in nuisances.items():
            if not _accepts_sample_weight(nu.model)[0]:
                warnings.warn(
                    f"Nuisance '{name}': {type(nu.model).__name__}.fit takes no sample_weight; "
                    "it is fitted unweighted.", UserWarning, stacklevel=2)
    fold_models = _seed_models({k: v.model for k, v in nuisances.items()}, random_state, len(folds))
    targets = {name: (nu.target.to_numpy() if hasattr(nu.target, "to_numpy") else np.asarray(nu.target))
               for name, nu in nuisances.items()}
    classes = {name: (np.unique(targets[name]) if methods[name] == "predict_proba" else None)
               for name in nuisances}
    threads = inner_threads(n_jobs, n_rows=n)
    tasks = []
    for name, nu in nuisances.items():
        mask = None if nu.fit_mask is None else np.asarray(nu.fit_mask, dtype=bool)
        for f, (train, test) in enumerate(folds):
            tasks.append(delayed(_fit_one)(
                threads, name, fold_models[name][f], nu.X if nu.X is not None else X, targets[name],
                train, test, mask, nu.predict_on, methods[name], sw, nu.fit_params, n, keep_models,
                classes[name]))
    with limit_threads(threads), progress(
            total=len(tasks), desc=f"cross-fitting {len(nuisances)} models x {len(folds)} folds",
            unit="fit", verbose=verbose) as bar:
        outputs = []
        for out in parallel(n_jobs, verbose)(tasks):
            outputs.append(out)
            bar.update(1)

    result = CrossFitResult(folds=list(folds))
    for name, test, preds, model in outputs:
        for key, p in preds.items():
            p = np.asarray(p, dtype=float)
            if key not in result.predictions:
                result.predictions[key] = np.full((n,) + p.shape[1:], np.nan)
            result.predictions[key][test] = p
        if keep_models:
            result.models.setdefault(name, []).append(model)
    return result
