"""MultiArmAIPW: average potential outcomes and contrasts, against DoubleML's APOS."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.ate import AIPW, MultiArmAIPW
from causalkit.ate._common import folds_per_rep, rep_seeds
from causalkit.datasets import make_ate_data, make_multiarm_data


def _model():
    return MultiArmAIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=1)


@pytest.mark.parametrize("n_rep", [1, 3])
def test_equals_doubleml_apos_and_causal_contrast(n_rep):
    dml = pytest.importorskip("doubleml")
    d = make_multiarm_data(1200, random_state=3)
    est = _model().set_params(n_rep=n_rep, rep_aggregation="median-bound").fit(
        d.X, d.y, treatment=d.treatment)
    folds = folds_per_rep(1200, 3, rep_seeds(1, n_rep), stratify=d.treatment)
    data = dml.DoubleMLData.from_arrays(d.X, d.y, d.treatment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        apos = dml.DoubleMLAPOS(data, ml_g=LinearRegression(), ml_m=LogisticRegression(),
                                treatment_levels=[0, 1, 2], n_folds=3, n_rep=n_rep)
        apos.set_sample_splitting([[(tr, te) for tr, te in f] for f in folds])
        apos.fit()
        cc = apos.causal_contrast(reference_levels=0)
    np.testing.assert_allclose(est.apo().values, apos.coef, rtol=1e-8)
    np.testing.assert_allclose(est.apo().stderrs, apos.se, rtol=1e-8)
    tab = est.contrast(reference=0)
    np.testing.assert_allclose(tab.values, cc.thetas, rtol=1e-8)
    np.testing.assert_allclose(tab.stderrs, cc.ses, rtol=1e-8)
    assert est.apo().names == ["E[Y(0)]", "E[Y(1)]", "E[Y(2)]"]


def test_recovers_known_potential_outcomes_and_contrasts():
    d = make_multiarm_data(6000, random_state=0)
    est = _model().fit(d.X, d.y, treatment=d.treatment)
    for k, e in zip(est.treatment_levels_, est.apo()):
        assert abs(e.value - d.true_apo[int(k)]) < 3.5 * e.stderr
    tab = est.contrast(reference=1)
    assert tab.names == ["0 vs 1", "2 vs 1"]
    for e, k in zip(tab, (0, 2)):
        assert abs(e.value - (d.true_apo[k] - d.true_apo[1])) < 3.5 * e.stderr
    # the contrast SE uses the correlation of the scores: it equals the joint covariance
    cov = est.apo().cov
    assert tab["2 vs 1"].stderr == pytest.approx(np.sqrt(cov[2, 2] + cov[1, 1] - 2 * cov[1, 2]),
                                                 rel=1e-10)


def test_two_levels_agree_with_binary_aipw_ate():
    d = make_ate_data(800, random_state=2)
    multi = _model().fit(d.X, d.y, treatment=d.treatment).contrast(0)["1 vs 0"]
    binary = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=1).fit(
        d.X, d.y, treatment=d.treatment).ate()
    # the two propensity fits (of T and of 1 - T) differ only by the solver's tolerance
    assert multi.value == pytest.approx(binary.value, abs=0.02 * binary.stderr)
    assert multi.stderr == pytest.approx(binary.stderr, rel=0.02)


def test_string_levels_and_reference_errors():
    d = make_multiarm_data(900, random_state=5)
    labels = np.array(["low", "mid", "high"])[d.treatment]
    est = _model().fit(d.X, d.y, treatment=labels)
    assert list(est.treatment_levels_) == ["high", "low", "mid"]
    assert est.contrast("low").names == ["high vs low", "mid vs low"]
    with pytest.raises(ValueError, match="`reference` must be one of the treatment levels"):
        est.contrast("none")


def test_bad_treatments():
    d = make_multiarm_data(300, random_state=0)
    with pytest.raises(ValueError, match="`treatment` takes only the value"):
        _model().fit(d.X, d.y, treatment=np.zeros(300))
    with pytest.raises(ValueError, match="at most 50 levels"):
        _model().fit(d.X, d.y, treatment=np.linspace(0, 1, 300))
    with pytest.raises(ValueError, match="`treatment` has only 2 unit"):
        t = d.treatment.copy()
        t[:2] = 7
        _model().fit(d.X, d.y, treatment=t)
    with pytest.raises(ValueError, match="`treatment` contains NaN"):
        _model().fit(d.X, d.y, treatment=np.where(np.arange(300) == 0, np.nan, d.treatment))


def test_groups_give_t_intervals():
    d = make_multiarm_data(900, random_state=4)
    est = _model().fit(d.X, d.y, treatment=d.treatment, groups=np.repeat(np.arange(30), 30))
    assert all(e.dof == 29 for e in est.apo())
    assert all(e.dof == 29 for e in est.contrast())
