"""Estimate, EstimateTable and EffectCurve: numbers, intervals, summaries."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalkit.inference import EffectCurve, Estimate, EstimateTable, estimates_from_arrays


def test_estimate_interval_and_pvalue_match_normal_theory():
    est = Estimate(2.0, 0.5, n=100, method="m", name="ATE")
    lo, hi = est.conf_int(0.10)
    z = stats.norm.ppf(0.95)
    assert lo == pytest.approx(2.0 - z * 0.5) and hi == pytest.approx(2.0 + z * 0.5)
    assert est.pvalue == pytest.approx(2 * stats.norm.sf(4.0))
    assert est.zstat == pytest.approx(4.0)


def test_estimate_t_interval_with_dof_and_center():
    est = Estimate(1.0, 0.2, n=12, method="ols", dof=10, center=1.1)
    lo, hi = est.conf_int()
    c = stats.t.ppf(0.975, 10)
    assert (lo, hi) == pytest.approx((1.1 - c * 0.2, 1.1 + c * 0.2))
    assert est.pvalue == pytest.approx(2 * stats.t.sf(5.5, 10))


def test_estimate_is_immutable_readable_and_picklable():
    est = Estimate(1.0, 0.1, n=50, method="AIPW", name="ATE")
    with pytest.raises(AttributeError):
        est.value = 3.0
    text = repr(est)
    assert "ATE = 1" in text and "95% CI" in text and "AIPW" in text
    again = pickle.loads(pickle.dumps(est))
    assert again.value == est.value and again.conf_int() == est.conf_int()
    assert float(est) == 1.0


def test_estimate_summary_is_one_row_frame():
    df = Estimate(1.0, 0.1, n=50, method="AIPW", name="ATE").summary(0.1)
    assert isinstance(df, pd.DataFrame) and df.shape[0] == 1
    assert list(df.index) == ["ATE"]
    assert df["[0.05"].iloc[0] == pytest.approx(1.0 - stats.norm.ppf(0.95) * 0.1)


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5])
def test_bad_alpha_is_named(alpha):
    with pytest.raises(ValueError, match="`alpha` must lie in"):
        Estimate(1.0, 0.1, n=5, method="m").conf_int(alpha)


def test_negative_stderr_rejected():
    with pytest.raises(ValueError, match="`stderr` must be non-negative"):
        Estimate(1.0, -0.1, n=5, method="m")


def test_zero_stderr_pvalue():
    assert Estimate(1.0, 0.0, n=5, method="m").pvalue == 0.0
    assert Estimate(0.0, 0.0, n=5, method="m").pvalue == 1.0


def test_table_access_and_joint_interval_wider_than_pointwise():
    cov = np.array([[0.01, 0.004], [0.004, 0.04]])
    tab = estimates_from_arrays([1.0, 2.0], np.sqrt(np.diag(cov)), ["a", "b"], n=10,
                                method="ols", cov=cov)
    assert tab["a"].value == 1.0 and tab[1].name == "b" and len(tab) == 2
    point = tab.conf_int(0.05)
    joint = tab.conf_int(0.05, joint=True)
    assert (joint["upper"] > point["upper"]).all() and (joint["lower"] < point["lower"]).all()
    # two nearly independent estimates: sup-t critical value close to the Sidak value
    half = (joint["upper"] - tab.values) / tab.stderrs
    sidak = stats.norm.ppf(1 - (1 - 0.95 ** 0.5) / 2)
    assert half.iloc[0] == pytest.approx(sidak, abs=0.03)
    with pytest.raises(KeyError, match="No estimate named"):
        tab["c"]


def test_table_rejects_duplicate_names_and_joint_without_cov():
    e = Estimate(1.0, 0.1, n=5, method="m", name="x")
    with pytest.raises(ValueError, match="unique"):
        EstimateTable((e, e))
    with pytest.raises(ValueError, match="covariance"):
        EstimateTable((e,)).conf_int(joint=True)


def test_effect_curve_uniform_band_covers_simulated_sup():
    rng = np.random.default_rng(0)
    G = 20
    draws = rng.normal(0, 0.1, (4000, G))
    curve = EffectCurve(np.linspace(0, 1, G), np.zeros(G), np.full(G, 0.1), n=100,
                        method="m", draws=draws)
    c = curve.uniform_critical_value(0.05)
    # for independent normals, P(max |Z| <= c) = (2 Phi(c) - 1)^G = 0.95
    assert c == pytest.approx(stats.norm.ppf(1 - (1 - 0.95 ** (1 / G)) / 2), abs=0.05)
    lo, hi = curve.conf_int(0.05, "uniform")
    plo, phi = curve.conf_int(0.05, "pointwise")
    assert np.all(lo < plo) and np.all(hi > phi)
    df = curve.summary()
    assert {"uniform lower", "pointwise upper"} <= set(df.columns) and len(df) == G


def test_effect_curve_uniform_from_covariance_and_errors():
    G = 5
    curve = EffectCurve(np.arange(G), np.ones(G), np.ones(G), n=10, method="m", cov=np.eye(G))
    c = curve.uniform_critical_value(0.05)
    assert c == pytest.approx(stats.norm.ppf(1 - (1 - 0.95 ** (1 / G)) / 2), abs=0.02)
    bare = EffectCurve(np.arange(G), np.ones(G), np.ones(G), n=10, method="m")
    with pytest.raises(ValueError, match="uniform band needs"):
        bare.conf_int(kind="uniform")
    with pytest.raises(ValueError, match="`kind` must be"):
        bare.conf_int(kind="both")
    with pytest.raises(ValueError, match="one entry per grid point"):
        EffectCurve(np.arange(3), np.ones(4), np.ones(3), n=1, method="m")
    with pytest.raises(ValueError, match="`draws` must have shape"):
        EffectCurve(np.arange(3), np.ones(3), np.ones(3), n=1, method="m", draws=np.ones((5, 4)))


def test_effect_curve_arrays_are_read_only_and_plot(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    curve = EffectCurve(np.linspace(0.1, 0.9, 9), np.ones(9), np.full(9, 0.1), n=5, method="m",
                        cov=np.eye(9) * 0.01, name="tau(q)", grid_name="quantile")
    with pytest.raises(ValueError):
        curve.values[0] = 2.0
    ax = curve.plot()
    assert ax.get_xlabel() == "quantile" and len(ax.lines) >= 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("uniform" in t for t in labels) and any("pointwise" in t for t in labels)


def test_sup_t_matches_sidak_for_independent_and_normal_for_identical_coordinates():
    from causalkit.inference._results import sup_t_gaussian

    k, alpha = 5, 0.05
    sidak = stats.norm.ppf((1 + (1 - alpha) ** (1 / k)) / 2)
    # the Monte Carlo SE of the critical value is held at <= 0.2% of it (about 0.005 here)
    assert abs(sup_t_gaussian(np.eye(k), alpha, random_state=1) - sidak) < 0.02
    same = np.ones((4, 1))                      # four copies of one coordinate
    assert sup_t_gaussian(same, alpha) == pytest.approx(stats.norm.ppf(1 - alpha / 2), abs=0.02)
    # a zero row carries no uncertainty and is ignored; one row is exact
    assert sup_t_gaussian(np.array([[1.0], [0.0]]), alpha) == pytest.approx(1.959964, abs=1e-6)


def test_sup_t_matches_the_exact_equicorrelated_critical_value_within_its_monte_carlo_error():
    # Z_g = sqrt(rho) W + sqrt(1 - rho) E_g: P(max |Z_g| <= c) is a one-dimensional integral
    from scipy import integrate, optimize

    from causalkit.inference._results import sup_t_gaussian

    G, rho, alpha = 12, 0.5, 0.05

    def prob(c):
        def f(w):
            a = np.sqrt(1 - rho)
            inner = (stats.norm.cdf((c - np.sqrt(rho) * w) / a)
                     - stats.norm.cdf((-c - np.sqrt(rho) * w) / a))
            return stats.norm.pdf(w) * inner**G
        return integrate.quad(f, -10, 10, epsabs=1e-12)[0]

    exact = optimize.brentq(lambda c: prob(c) - (1 - alpha), 1.5, 5.0, xtol=1e-10)
    cov = np.full((G, G), rho) + (1 - rho) * np.eye(G)
    factor = np.linalg.cholesky(cov)
    values = [sup_t_gaussian(factor, alpha, random_state=s) for s in range(5)]
    # the draws stop once the critical value's Monte Carlo SE is <= 0.2% of it
    assert all(abs(v - exact) < 4 * 0.002 * exact for v in values)
    assert abs(np.mean(values) - exact) < 2 * 0.002 * exact
    # bounded by the normal quantile below and the chi quantile of the whole vector above
    assert stats.norm.ppf(1 - alpha / 2) < min(values)
    assert max(values) < np.sqrt(stats.chi2.ppf(1 - alpha, G))


def test_sup_t_many_rows_of_low_rank_costs_few_draws_and_is_deterministic():
    from causalkit.inference import _results

    F = np.random.default_rng(0).normal(size=(1000, 6))
    _results._SUP_T_CACHE.clear()
    a = _results.sup_t_gaussian(F, random_state=3)
    _results._SUP_T_CACHE.clear()
    assert _results.sup_t_gaussian(F, random_state=3) == a
    # fewer draws allowed than the first batch still gives a value in the exact bounds
    b = _results.sup_t_gaussian(F, n_draws=100, random_state=3)
    assert stats.norm.ppf(0.975) < b < np.sqrt(stats.chi2.ppf(0.95, 6))


def test_effect_curve_factor_and_covariance_give_the_same_band():
    rng = np.random.default_rng(3)
    F = rng.normal(size=(30, 3))
    cov = F @ F.T
    se = np.sqrt(np.diag(cov))
    a = EffectCurve(np.arange(30.0), np.zeros(30), se, n=100, method="t", cov=cov)
    b = EffectCurve(np.arange(30.0), np.zeros(30), se, n=100, method="t", cov_factor=F)
    ca, cb = a.uniform_critical_value(0.05), b.uniform_critical_value(0.05)
    # same law; different factors give different Monte Carlo streams
    assert abs(ca - cb) < 0.03 and 1.96 < cb < stats.norm.ppf(1 - 0.025 / 30)
    with pytest.raises(ValueError, match="cov_factor"):
        EffectCurve(np.arange(3.0), np.zeros(3), np.ones(3), n=5, method="t", cov_factor=np.ones((4, 2)))
