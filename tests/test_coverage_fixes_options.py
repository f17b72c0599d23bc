"""Fast unit tests of the options added to fix interval coverage.

CFDiVAE's parallel refit bootstrap and cluster bootstrap, TweedieCorrection's
bias-corrected score and DistributionalRDD's leverage-corrected residuals. The coverage
itself is checked by the slow tests in ``test_coverage_slow_fixes.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from joblib import parallel_config


# ---------------------------------------------------------------------------- CFDiVAE
@pytest.fixture(scope="module")
def cfd():
    pytest.importorskip("torch")
    from causalkit.datasets import make_cfd_data

    return make_cfd_data(600, random_state=3)


def test_cfdivae_refit_bootstrap_same_numbers_for_any_n_jobs_and_backend(cfd):
    from causalkit.frontdoor import CFDiVAE

    def run(n_jobs, backend):
        est = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=4, bootstrap="refit",
                      n_jobs=n_jobs, random_state=11)
        with warnings.catch_warnings(), parallel_config(backend=backend):
            warnings.simplefilter("ignore")
            est.fit(cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies)
        return est.ate()

    ref = run(1, "loky")
    for n_jobs, backend in ((2, "loky"), (2, "threading")):
        e = run(n_jobs, backend)
        assert e.value == ref.value
        assert e.stderr == ref.stderr
    assert np.isfinite(ref.stderr) and ref.stderr > 0
    assert "VAE retrained" in ref.method


def test_cfdivae_refit_replicates_differ_from_each_other(cfd):
    # each replicate gets its own resample and training seed: the SE is not zero and a
    # different random_state gives a different SE
    from causalkit.frontdoor import CFDiVAE

    ses = []
    for seed in (1, 2):
        est = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=4, bootstrap="refit",
                      random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies)
        ses.append(est.ate().stderr)
    assert ses[0] > 0 and ses[1] > 0 and ses[0] != ses[1]


def test_cfdivae_groups_resample_clusters(cfd):
    from causalkit.frontdoor import CFDiVAE

    n = cfd.y.shape[0]
    est = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=50, random_state=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = est.fit(cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies).ate()
        singletons = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=50, random_state=11).fit(
            cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies,
            groups=np.arange(n)).ate()
        # clusters of 30 units: the point estimate is unchanged, the SE is a cluster one
        clustered = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=50, random_state=11).fit(
            cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies,
            groups=np.arange(n) // 30).ate()
    assert singletons.value == plain.value == clustered.value
    assert "of 600 clusters" in singletons.method and "of 20 clusters" in clustered.method
    assert clustered.stderr > 0 and clustered.stderr != plain.stderr
    with pytest.raises(ValueError, match="`groups`"):
        CFDiVAE(epochs=1, hidden=8, n_layers=1).fit(
            cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies, groups=np.zeros(n))
    with pytest.raises(ValueError, match="`groups`"):
        CFDiVAE(epochs=1, hidden=8, n_layers=1).fit(
            cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies, groups=np.arange(n - 1))


def test_cfdivae_refit_with_groups_and_threads_is_reproducible(cfd):
    from causalkit.frontdoor import CFDiVAE

    g = np.arange(cfd.y.shape[0]) // 20
    out = []
    for n_jobs, backend in ((1, "loky"), (2, "threading")):
        est = CFDiVAE(epochs=2, hidden=16, n_layers=1, n_boot=3, bootstrap="refit",
                      n_jobs=n_jobs, random_state=5)
        with warnings.catch_warnings(), parallel_config(backend=backend):
            warnings.simplefilter("ignore")
            out.append(est.fit(cfd.X, cfd.y, treatment=cfd.treatment, proxies=cfd.proxies,
                               groups=g).ate().stderr)
    assert out[0] == out[1] and out[0] > 0


# ---------------------------------------------------------------------------- Tweedie
def test_tweedie_bias_corrected_score_is_richardson_of_two_kernel_scores():
    from causalkit.calibration import TweedieCorrection
    from causalkit.calibration._kde import BinnedKDE

    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    pred = 0.5 * y + 0.4 * rng.normal(size=400)
    x = np.linspace(-1, 1, 7)
    tw = TweedieCorrection().fit(pred, y)
    plain = TweedieCorrection(bias_correction=False).fit(pred, y)
    h = tw.bandwidth_
    s1 = BinnedKDE(pred, h).score(x)
    s2 = BinnedKDE(pred, np.sqrt(2) * h).score(x)
    np.testing.assert_allclose(tw.score(x), 2 * s1 - s2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(plain.score(x), s1, rtol=1e-12)
    assert plain.kde_wide_ is None
    # downstream density: the same extrapolation on the predictions passed in
    down = TweedieCorrection(score_fit_on="downstream").fit(pred, y)
    q = rng.normal(0.1, 0.5, size=300)
    hq = down._bw(q, None)
    np.testing.assert_allclose(
        down.score(q), 2 * BinnedKDE(q, hq).score(q) - BinnedKDE(q, np.sqrt(2) * hq).score(q),
        rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="The 'bias_correction' parameter of TweedieCorrection"):
        TweedieCorrection(bias_correction="yes").fit(pred, y)


def test_tweedie_bias_correction_removes_the_smoothing_bias_for_a_gaussian():
    # Gaussian predictions with variance v: the kernel score at bandwidth h is
    # -x / (v + h^2); the extrapolated score is -x (2 / (v + h^2) - 1 / (v + 2 h^2)).
    # With v = 0.6 and h = 0.35 their errors from the true score -x / v are 17% and 4.9%.
    from causalkit.calibration import TweedieCorrection

    rng = np.random.default_rng(1)
    n, v = 200_000, 0.6
    y = rng.normal(size=n)
    pred = v * y + np.sqrt(v * (1 - v)) * rng.normal(size=n)
    tw = TweedieCorrection(bandwidth=0.35).fit(pred, y)
    plain = TweedieCorrection(bandwidth=0.35, bias_correction=False).fit(pred, y)
    x = np.array([-0.8, -0.4, 0.4, 0.8])
    h2 = 0.35**2
    np.testing.assert_allclose(plain.score(x), -x / (v + h2), rtol=0.03)
    np.testing.assert_allclose(tw.score(x), -x * (2 / (v + h2) - 1 / (v + 2 * h2)), rtol=0.03)
    # closer to the true score -x / v than the plain kernel score
    assert np.all(np.abs(tw.score(x) + x / v) < 0.5 * np.abs(plain.score(x) + x / v))


# ---------------------------------------------------------------------------- R3D
def test_r3d_vce_scales_residuals_by_leverage():
    from causalkit.datasets import make_r3d_data
    from causalkit.rdd import DistributionalRDD
    from causalkit.rdd._r3d import _leverage

    d = make_r3d_data(300, n_obs=30, random_state=2)
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for vce in ("hc0", "hc2", "hc3"):
            fits[vce] = DistributionalRDD(q_grid=d.q_grid, vce=vce, n_boot=50,
                                          random_state=0).fit(d.X, d.y)
        legacy = DistributionalRDD(q_grid=d.q_grid, vce="hc3", legacy=True, n_boot=50,
                                   random_state=0).fit(d.X, d.y)
    h = fits["hc0"].bandwidth_[0]
    lev = _leverage(np.asarray(d.X, float).ravel(), h, 2, "epanechnikov", None)
    assert np.all((lev >= 0) & (lev < 1)) and lev.max() > 0
    # each side's leverages sum to the number of coefficients (the hat matrix's trace)
    x = np.asarray(d.X, float).ravel()
    assert lev[x >= 0].sum() == pytest.approx(3) and lev[x < 0].sum() == pytest.approx(3)
    F0 = fits["hc0"].influence_
    np.testing.assert_allclose(fits["hc2"].influence_, F0 / np.sqrt(1 - lev)[:, None])
    np.testing.assert_allclose(fits["hc3"].influence_, F0 / (1 - lev)[:, None])
    np.testing.assert_array_equal(fits["hc3"].tau_, fits["hc0"].tau_)
    se = {k: f.effect().stderr for k, f in fits.items()}
    assert np.all(se["hc0"] < se["hc2"]) and np.all(se["hc2"] < se["hc3"])
    assert "HC3" in fits["hc3"].effect().method
    # legacy reproduces the R package: raw residuals whatever vce says
    assert "HC0" in legacy.effect().method
    with pytest.raises(ValueError, match="The 'vce' parameter of DistributionalRDD"):
        DistributionalRDD(vce="hc1").fit(d.X, d.y)
