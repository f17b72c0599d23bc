"""InvalidIV: recovery of the ATE with an invalid instrument, multiple robustness, warnings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_invalid_iv_data
from causalkit.iv import DMLIV, TSLS, InvalidIV
from causalkit.utils.validation import WeakInstrumentWarning


def _mr(**kw):
    return InvalidIV(method="mr", model_treatment=LinearRegression(), **kw)


def _fit(est, d, X=None):
    return est.fit(d.X_basis if X is None else X, d.y, treatment=d.treatment,
                   instrument=d.instrument)


def test_wald_and_tsls_are_biased_by_the_direct_effect():
    d = make_invalid_iv_data(20000, random_state=3)
    t = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).effect()
    # Under this design the 2SLS limit is 1 + gamma / delta = 1 + 0.5 / 0.4 = 2.25.
    assert abs(t.value - 2.25) < 3 * t.stderr
    assert t.value - 1.0 > 5 * t.stderr


@pytest.mark.parametrize("effect_model", ["constant", "linear"])
def test_mr_recovers_the_ate(effect_model):
    d = make_invalid_iv_data(5000, random_state=3)
    est = _fit(_mr(effect_model=effect_model), d)
    ate = est.ate()
    assert abs(ate.value - d.true_ate) < 3 * ate.stderr
    assert ate.stderr < 0.5
    assert est.coef_.shape == ((1,) if effect_model == "constant" else (3,))
    # the influence-function values average to zero around the estimate
    assert abs(est.scores_.mean() - ate.value) < 1e-8


@pytest.mark.parametrize("block", ["instrument", "treatment", "outcome", "confounding"])
def test_mr_is_consistent_with_any_one_block_misspecified(block):
    d = make_invalid_iv_data(20000, misspecify=(block,), random_state=5)
    ate = _fit(_mr(effect_model="constant"), d).ate()
    assert abs(ate.value - 1.0) < 3 * ate.stderr, (block, ate.value, ate.stderr)


def test_mr_is_biased_when_both_blocks_of_a_product_are_wrong():
    # (pi, c) wrong together: the bias E[(pi - pi~)(c - c~)] no longer vanishes.
    d = make_invalid_iv_data(20000, misspecify=("instrument", "confounding"), random_state=5)
    ate = _fit(_mr(effect_model="constant"), d).ate()
    assert abs(ate.value - 1.0) > 3 * ate.stderr


def test_mdml_recovers_the_ate_with_default_learners():
    d = make_invalid_iv_data(5000, random_state=3)
    est = InvalidIV(random_state=0).fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    ate = est.ate()
    assert abs(ate.value - 1.0) < 3 * ate.stderr
    assert ate.stderr < 0.6
    assert est.diagnostics_["n_fits"] == 15
    assert est.diagnostics_["denominator_t"] > 3
    # E[Var(A|1,X) - Var(A|0,X)] = E[0.4 (0.2 - 0.1 tanh X)] = 0.08 in this design
    assert abs(est.diagnostics_["variance_contrast_mean"] - 0.08) < 0.02


def test_mdml_robust_to_a_wrong_outcome_model():
    # pi and mu_A correct (logit on X, linear probability on [X, tanh X, Z]); the outcome
    # regression E[Y | A, Z, X] is misspecified by a linear model.
    d = make_invalid_iv_data(20000, misspecify=("outcome",), random_state=2)
    est = InvalidIV(LogisticRegression(), LinearRegression(), LinearRegression(), cv=3,
                    random_state=0)
    ate = _fit(est, d).ate()
    assert abs(ate.value - 1.0) < 3 * ate.stderr


def test_compare_shows_the_exclusion_gap():
    d = make_invalid_iv_data(20000, random_state=4)
    table = _fit(_mr(effect_model="constant"), d).compare()
    assert table.names == ["ATE (invalid IV)", "LATE (DML-IV)", "2SLS"]
    ate, late, t = (table[k] for k in table.names)
    assert abs(ate.value - 1.0) < 3 * ate.stderr
    assert late.value - 1.0 > 4 * late.stderr and t.value - 1.0 > 4 * t.stderr


def test_exclusion_estimators_agree_with_truth_when_the_instrument_is_valid():
    d = make_invalid_iv_data(20000, direct_effect=0.0, random_state=6)
    late = DMLIV(LinearRegression(), LogisticRegression(), LogisticRegression(), cv=3,
                 random_state=0).fit(d.X_basis, d.y, treatment=d.treatment,
                                     instrument=d.instrument).late()
    assert abs(late.value - 1.0) < 3 * late.stderr
    t = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).effect()
    assert abs(t.value - 1.0) < 3 * t.stderr


def test_weak_identification_warns_and_is_recorded():
    rng = np.random.default_rng(0)
    n = 4000
    X = rng.normal(size=(n, 1))
    z = rng.binomial(1, 0.5, n)
    a = rng.binomial(1, 0.3 + 0.4 * z)  # Var(A | Z=1) == Var(A | Z=0)
    y = a + 0.5 * z + X[:, 0] + rng.normal(size=n)
    with pytest.warns(WeakInstrumentWarning, match="Weak identification"):
        est = InvalidIV(method="mr", effect_model="constant").fit(X, y, treatment=a, instrument=z)
    assert abs(est.diagnostics_["denominator_t"]) < 2


def test_dataset_rejects_unknown_blocks():
    with pytest.raises(ValueError, match="`misspecify`"):
        make_invalid_iv_data(100, misspecify=("propensity",))


def test_demo_rows_recover_the_truth():
    from causalkit.iv._examples import demo_rows

    rows = demo_rows()
    assert len(rows) == 2
    for row in rows:
        est, truth = row.run(True)
        assert abs(est.value - truth) < 3 * est.stderr, row.estimator


def test_strata_check_and_pandas_outputs():
    import pandas as pd

    d = make_invalid_iv_data(3000, random_state=0)
    X = pd.DataFrame(d.X_basis, columns=["x", "tanh_x"])
    strata = np.where(d.X[:, 0] > 0, "high", "low")
    est = _mr(effect_model="constant").fit(X, pd.Series(d.y), treatment=d.treatment,
                                           instrument=d.instrument, strata=strata)
    assert list(est.feature_names_in_) == ["x", "tanh_x"]
    z = np.where(strata == "high", 0, d.instrument)
    with pytest.raises(ValueError, match=r"`instrument` is constant \(0\) within stratum 'high'"):
        _mr().fit(X, d.y, treatment=d.treatment, instrument=z, strata=strata)


def test_401k_like_data_one_sided_noncompliance():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from causalkit.datasets import make_401k_like_data

    d = make_401k_like_data(random_state=0)
    assert d.treatment[d.instrument == 0].max() == 0  # only the eligible participate
    assert abs(d.true_ate - d.true_ate_sample) < 200
    est = InvalidIV(method="mr", model_instrument=make_pipeline(StandardScaler(), LogisticRegression()),
                    model_treatment=LinearRegression())
    table = est.fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).compare()
    ate, t = table["ATE (invalid IV)"], table["2SLS"]
    assert abs(ate.value - d.true_ate) < 3 * ate.stderr
    assert t.value - d.true_ate > 4 * t.stderr


def test_mr_linear_effect_standard_error_matches_the_bootstrap():
    d = make_invalid_iv_data(3000, random_state=8)
    est = _mr(effect_model="linear")
    se = _fit(est, d, X=d.X).ate().stderr
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(100):
        i = rng.integers(0, 3000, 3000)
        boot.append(_mr(effect_model="linear").fit(
            d.X[i], d.y[i], treatment=d.treatment[i], instrument=d.instrument[i]).ate().value)
    # 100 bootstrap draws estimate an SD to within about 15% (two standard errors)
    assert 0.7 < se / np.std(boot, ddof=1) < 1.4


def test_compare_late_is_the_dmliv_formula_on_this_fits_nuisances():
    """compare()'s LATE and a standalone DMLIV share the estimator (the doubly robust Wald
    ratio), not the nuisances: this fit's are E[A | Z, X] from a model on [X, Z] and
    E[Y | Z, X] combined from E[Y | A, Z, X]; DMLIV fits per-arm models on X."""
    d = make_invalid_iv_data(6000, random_state=4)
    est = InvalidIV(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment,
                                               instrument=d.instrument)
    late = est.compare()["LATE (DML-IV)"]
    nu = est.nuisances_
    z, a, y, pi = d.instrument, d.treatment, d.y, nu["instrument"]
    num = (nu["outcome_z1"] - nu["outcome_z0"] + z * (y - nu["outcome_z1"]) / pi
           - (1 - z) * (y - nu["outcome_z0"]) / (1 - pi))
    den = (nu["treatment_z1"] - nu["treatment_z0"] + z * (a - nu["treatment_z1"]) / pi
           - (1 - z) * (a - nu["treatment_z0"]) / (1 - pi))
    assert late.value == pytest.approx(num.mean() / den.mean(), rel=1e-12)
    # the standalone estimator, other nuisances: the same estimand, within a stated band
    alone = DMLIV(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment,
                                            instrument=d.instrument).late()
    assert abs(alone.value - late.value) < 0.5 * late.stderr
