"""Parity with the R package R3D on its stored reference outputs (../shared/fixtures/r3d).

Every deterministic quantity is compared at rtol 1e-8 / atol 1e-10; p-values are
counts over draws and must match exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalkit.rdd import _core as C

RTOL, ATOL = 1e-8, 1e-10
GRIDS = {
    "sharp_simple_20": np.arange(1, 21) / 21,
    "fuzzy_simple_20": np.arange(1, 21) / 21,
    "sharp_simple_99": np.arange(1, 100) / 100,
    "large_nq": np.arange(1, 201) / 201,
    "small_sample": np.arange(1, 6) / 6,
    "dgp1": np.array([0.1, 0.25, 0.5, 0.75, 0.9]),
    "dgp2": np.array([0.1, 0.25, 0.5, 0.75, 0.9]),
}


@pytest.fixture(scope="module")
def fx(shared_dir):
    root = shared_dir / "fixtures" / "r3d"
    if not root.is_dir():
        pytest.skip("R3D fixtures absent")

    def read(name):
        return pd.read_csv(root / name)

    return read


def _data(fx, name):
    d = fx(f"ref_data_{name}.csv")
    qcols = [c for c in d.columns if c.startswith("Q")]
    t = d["T_treat"].to_numpy(float) if "T_treat" in d else None
    return d["X"].to_numpy(float), d[qcols].to_numpy(float), t, GRIDS[name]


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- layer 1


def test_empirical_quantiles(fx):
    ref = fx("ref_quantiles.csv")
    grids = {1: [0.5], 2: [0.1, 0.5, 0.9], 3: np.arange(1, 100) / 100}
    for case in (1, 2, 3):
        y = fx(f"ref_quantile_y_{case}.csv")["y"].to_numpy()
        for g, grid in grids.items():
            sub = ref[(ref["case"] == case) & (ref["grid"] == g)]
            close(sub["q"], grid)
            close(C.empirical_quantiles([y], grid)[0], sub["value"])


def test_quantile_matrices_share_units(fx):
    # The 20- and 99-point matrices describe the same units and samples.
    X, Q20, _, _ = _data(fx, "sharp_simple_20")
    X99, Q99, _, _ = _data(fx, "sharp_simple_99")
    close(X, X99)
    assert np.all(np.diff(Q20, axis=1) >= 0) and np.all(np.diff(Q99, axis=1) >= 0)


@pytest.mark.parametrize("kernel", C.KERNELS)
def test_density_at_cutoff(fx, kernel):
    ref = fx("ref_density_all.csv").set_index("kernel").loc[kernel]
    X, _, _, _ = _data(fx, "sharp_simple_20")
    close(C.density_at_cutoff(X, kernel), ref["f_X_hat"])
    close(np.std(X, ddof=1), ref["sigma_X"])


def test_isotonic(fx):
    ref = fx("ref_isotonic.csv")
    for _case, sub in ref.groupby("case", sort=False):
        close(C.isotonic(sub["input"].to_numpy()), sub["output"], atol=0)


@pytest.mark.parametrize("case,qf", [("uniform", lambda q: q),
                                     ("exponential", lambda q: -np.log1p(-q)),
                                     ("degenerate", lambda q: np.full_like(q, 5.0))])
def test_gini(fx, case, qf):
    ref = fx("ref_gini.csv").set_index("case").loc[case, "gini"]
    tab = fx(f"ref_gini_qf_{case}.csv")
    close(tab["qf"], qf(tab["q"].to_numpy()), atol=1e-12)
    assert C.gini_from_quantiles(tab["q"], tab["qf"]) == pytest.approx(ref, rel=1e-8, abs=1e-12)


# ----------------------------------------------------------------------------- layer 2


@pytest.mark.parametrize("kernel", C.KERNELS)
def test_local_polynomial_weights_and_coefficients(fx, kernel):
    X, Q, _, _q = _data(fx, "sharp_simple_20")
    h = fx(f"ref_locpoly_bw_{kernel}.csv")["h"].to_numpy()
    for side in ("plus", "minus"):
        alpha, W, _ = C.local_polynomial(X, Q, h, 2, kernel, side)
        close(alpha, fx(f"ref_locpoly_alpha_{side}_{kernel}.csv").to_numpy(), atol=2e-11)
        close(alpha, fx(f"ref_est_alpha_{side}_sharp_simple_{kernel}.csv").to_numpy(), atol=2e-11)
        close(W, fx(f"ref_locpoly_w_{side}_{kernel}.csv").to_numpy(), atol=1e-12)
        close(W.sum(axis=0), 1.0)
        close((W * Q).sum(axis=0), alpha[0])


@pytest.mark.parametrize("kernel", C.KERNELS)
def test_selected_bandwidths_with_r_pilot_kernel(fx, kernel):
    X, Q, _, q = _data(fx, "sharp_simple_20")
    h = fx(f"ref_locpoly_bw_{kernel}.csv")["h"].to_numpy()
    sel = C.select_bandwidths(X, Q, q, method="simple", kernel=kernel, legacy=True)
    close(sel["h"], h)


# ----------------------------------------------------------------------------- layer 3

RESULTS = [
    # file, data, method, kernel, p, bandwidth source ("auto" or a number)
    ("sharp_simple_epanechnikov", "sharp_simple_20", "simple", "epanechnikov", 2, "auto"),
    ("sharp_simple_triangular", "sharp_simple_20", "simple", "triangular", 2, "auto"),
    ("sharp_simple_uniform", "sharp_simple_20", "simple", "uniform", 2, "auto"),
    ("sharp_simple_20", "sharp_simple_20", "simple", "epanechnikov", 2, "auto"),
    ("sharp_simple_99", "sharp_simple_99", "simple", "triangular", 2, "auto"),
    ("sharp_frechet_20", "sharp_simple_20", "frechet", "epanechnikov", 2, "auto"),
    ("fuzzy_simple_20", "fuzzy_simple_20", "simple", "epanechnikov", 2, "auto"),
    ("fuzzy_frechet_20", "fuzzy_simple_20", "frechet", "epanechnikov", 2, "auto"),
    ("sharp_simple_fixedbw", "sharp_simple_20", "simple", "epanechnikov", 2, 0.5),
    ("sharp_simple_p1", "sharp_simple_20", "simple", "epanechnikov", 1, "auto"),
    ("sharp_simple_p3", "sharp_simple_20", "simple", "epanechnikov", 3, "auto"),
    ("coverage", "sharp_simple_20", "simple", "epanechnikov", 2, "coverage"),
    ("small_sample", "small_sample", "simple", "epanechnikov", 2, "auto"),
    ("large_nq", "large_nq", "simple", "epanechnikov", 2, "auto"),
    ("dgp1", "dgp1", "simple", "epanechnikov", 2, "auto"),
    ("dgp2", "dgp2", "simple", "epanechnikov", 2, "auto"),
    ("bootstrap_sharp", "sharp_simple_20", "simple", "epanechnikov", 2, "auto"),
]


@pytest.mark.parametrize("fname,data,method,kernel,p,bw", RESULTS, ids=[r[0] for r in RESULTS])
def test_estimates(fx, fname, data, method, kernel, p, bw):
    ref = fx(f"ref_results_{fname}.csv")
    X, Q, T, q = _data(fx, data)
    close(ref["q"], q)
    fuzzy = fname.startswith("fuzzy")
    n = X.shape[0]
    # 1) the estimate at R's bandwidths
    fit = C.estimate_curve(X, Q, q, ref["bw_num"].to_numpy(), method=method, p=p, kernel=kernel,
                           treatment=T if fuzzy else None,
                           h_treatment=ref["bw_den"].iloc[0] if fuzzy else None)
    close(fit["tau"], ref["tau"])
    close(fit["int_plus"], ref["int_plus"])
    close(fit["int_minus"], ref["int_minus"])
    # 2) the bandwidths themselves, selected from scratch (bandwidths do not depend on p)
    if bw == "auto" or bw == "coverage":
        sel = C.select_bandwidths(X, Q, q, method=method, kernel=kernel, legacy=True)
        h = sel["h"] * (n ** (-1 / 20) if bw == "coverage" else 1.0)
        close(h, ref["bw_num"])
        if fuzzy:
            hT = C.select_bandwidths(X, T, [0.5], method="simple", kernel=kernel, legacy=True)["h"]
            close(hT[0], ref["bw_den"].iloc[0])
    else:
        close(ref["bw_num"], bw)


@pytest.mark.parametrize("fname,method", [("sharp", "simple"), ("frechet", "frechet"),
                                          ("fuzzy", "simple")])
def test_bandwidth_selector_intermediates(fx, fname, method):
    ref = fx(f"ref_bwselect_{fname}.csv")
    data = "fuzzy_simple_20" if fname == "fuzzy" else "sharp_simple_20"
    X, Q, T, q = _data(fx, data)
    sel = C.select_bandwidths(X, Q, q, method=method, kernel="triangular", legacy=True)
    for key, col in [("h", "h_star_num"), ("pilot", "pilot_h_num"), ("B_plus", "B_plus"),
                     ("B_minus", "B_minus"), ("V_plus", "V_plus"), ("V_minus", "V_minus")]:
        close(np.broadcast_to(sel[key], q.shape), ref[col])
    close(sel["f_X"], ref["f_X_hat"].iloc[0])
    if fname == "fuzzy":
        st = C.select_bandwidths(X, T, [0.5], method="simple", kernel="triangular", legacy=True)
        close(st["h"][0], ref["h_star_den"].iloc[0])
        close(st["pilot"][0], ref["pilot_h_den"].iloc[0])


# ----------------------------------------------------------------------------- layer 5


@pytest.fixture(scope="module")
def deterministic_boot(fx):
    X, Q, _, q = _data(fx, "sharp_simple_20")
    ref = fx("ref_results_sharp_simple_epanechnikov.csv")
    fit = C.estimate_curve(X, Q, q, ref["bw_num"].to_numpy(), method="simple", p=2,
                           kernel="epanechnikov")
    E = C.residual_products(X, Q, fit, method="simple", positive_only=True)
    xi = fx("ref_xi_matrix.csv").to_numpy()
    return fit, C.multiplier_draws(E, xi), q, (X, Q)


def test_bootstrap_draws_with_given_multipliers(fx, deterministic_boot):
    _fit, draws, _, _ = deterministic_boot
    close(draws.T, fx("ref_bootstrap_taus.csv").to_numpy(), atol=1e-11)


def test_uniform_band_with_given_multipliers(fx, deterministic_boot):
    fit, draws, _, _ = deterministic_boot
    ref = fx("ref_bootstrap_deterministic.csv")
    crit = C.order_statistic_critical_value(np.abs(draws).max(axis=1), 0.05)
    close(crit, ref["crit_val"].iloc[0])
    close(fit["tau"] - crit, ref["cb_lower"])
    close(fit["tau"] + crit, ref["cb_upper"])


def test_pvalues_with_given_multipliers(fx, deterministic_boot):
    fit, draws, q, _ = deterministic_boot
    ref = fx("ref_pvalues_deterministic.csv")
    mask = np.ones(q.shape, bool)
    for i, kind in enumerate(("nullity", "homogeneity")):
        assert ref["test"].iloc[i] == f"{kind}:[{q.min():.2f}, {q.max():.2f}]"
        stat, pval = C.sup_test(fit["tau"], draws, mask, kind)
        close(stat, ref["test_stat"].iloc[i])
        assert pval == ref["p_value"].iloc[i]


def test_default_residuals_include_negative_weight_units(deterministic_boot):
    # Without the R package's positive-weight restriction every in-window unit
    # contributes; the draws then differ (the R choice drops real variation).
    fit, _draws, _, (X, Q) = deterministic_boot
    E_all = C.residual_products(X, Q, fit, method="simple")
    E_pos = C.residual_products(X, Q, fit, method="simple", positive_only=True)
    neg = (fit["w_plus"] - fit["w_minus"]) * np.where(X >= 0, 1, -1)[:, None] < 0
    assert neg.any()
    assert np.all(E_pos[neg] == 0) and np.count_nonzero(E_all[neg]) == neg.sum()
    close(E_all[~neg], E_pos[~neg])


def _r_normals(seed, size):
    """Normals from R's default generator (Mersenne-Twister, inversion) after set.seed."""
    from scipy.special import ndtri

    s = seed % 2**32
    for _ in range(50):
        s = (69069 * s + 1) % 2**32
    vals = []
    for _ in range(625):
        s = (69069 * s + 1) % 2**32
        vals.append(s)
    bitgen = np.random.MT19937()
    bitgen.state = {"bit_generator": "MT19937",
                    "state": {"key": np.array(vals[1:], dtype=np.uint32), "pos": 624}}
    raw = bitgen.random_raw(2 * size).astype(float) * 2.3283064365386963e-10
    u1, u2 = raw[0::2], raw[1::2]
    return ndtri((np.floor(2**27 * u1) + u2) / 2**27)


def test_r_normals_reproduce_the_stored_multipliers(fx):
    xi = fx("ref_xi_matrix.csv").to_numpy()
    close(_r_normals(123, xi.size).reshape(xi.shape, order="F"), xi, atol=1e-12)


def test_stochastic_bootstrap_band_and_pvalues(fx):
    # r3d(boot=TRUE, boot_reps=500) after set.seed(42): its multipliers are the first
    # 200 x 500 normals of that stream, column by column.
    X, Q, _, q = _data(fx, "sharp_simple_20")
    ref = fx("ref_results_bootstrap_sharp.csv")
    fit = C.estimate_curve(X, Q, q, ref["bw_num"].to_numpy(), method="simple", p=2,
                           kernel="epanechnikov")
    E = C.residual_products(X, Q, fit, method="simple", positive_only=True)
    xi = _r_normals(42, 200 * 500).reshape((200, 500), order="F")
    draws = C.multiplier_draws(E, xi)
    crit = C.order_statistic_critical_value(np.abs(draws).max(axis=1), 0.05)
    close(fit["tau"] - crit, ref["cb_lower"])
    close(fit["tau"] + crit, ref["cb_upper"])
    pv = fx("ref_pvalues_bootstrap_sharp.csv")
    mask = np.ones(q.shape, bool)
    for i, kind in enumerate(("nullity", "homogeneity")):
        assert C.sup_test(fit["tau"], draws, mask, kind)[1] == pv["p_value"].iloc[i]
