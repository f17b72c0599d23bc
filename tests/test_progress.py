"""Progress bars (tqdm) appear behind ``verbose`` on long fits, and only there."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from causalkit._crossfit import Nuisance, crossfit
from causalkit._progress import parallel, progress
from causalkit.inference import bootstrap


def test_quiet_by_default(capsys):
    assert sum(progress(range(4), desc="x")) == 6
    with progress(total=2, desc="x") as bar:
        bar.update(2)
        bar.set_postfix_str("loss 1.0")
    bootstrap(np.mean, np.arange(50.0), n_boot=20, random_state=0)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_bootstrap_bar_counts_draws_and_leaves_the_numbers_alone(capsys):
    x = np.arange(100.0)
    quiet = bootstrap(np.mean, x, n_boot=120, batch_size=50, random_state=3)
    loud = bootstrap(np.mean, x, n_boot=120, batch_size=50, random_state=3, verbose=True)
    err = capsys.readouterr().err
    assert "bootstrap: 100%" in err and "120/120" in err and "draw" in err
    np.testing.assert_array_equal(quiet, loud)


def test_a_backend_without_generator_output_still_works():
    import joblib

    with joblib.parallel_config(backend="multiprocessing", n_jobs=2):
        par = parallel(verbose=True)
        assert list(par(joblib.delayed(abs)(v) for v in (-1, -2, -3))) == [1, 2, 3]


def test_crossfit_bar_counts_model_fold_pairs(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=120)
    spec = {"a": Nuisance(LinearRegression(), y), "b": Nuisance(LinearRegression(), -y)}
    quiet = crossfit(spec, X, cv=3, random_state=0)
    loud = crossfit(spec, X, cv=3, random_state=0, verbose=True)
    err = capsys.readouterr().err
    assert "cross-fitting 2 models x 3 folds" in err and "6/6" in err
    np.testing.assert_array_equal(quiet.predictions["a"], loud.predictions["a"])


def test_selective_ml_shows_fits_and_combinations(capsys):
    from causalkit.testing import registered_cases

    case = next(c for c in registered_cases() if c.name == "iv.InvalidIV-selective")
    est = case.estimator().set_params(verbose=True).fit(**case.data(0))
    err = capsys.readouterr().err
    n_combos = len(est.selection_)
    assert n_combos > 1
    assert "cross-fitting" in err and "selective ML: combinations" in err
    assert f"{n_combos}/{n_combos}" in err


@pytest.mark.torch
def test_cfdivae_bars_over_epochs_and_bootstrap_draws(capsys):
    pytest.importorskip("torch")
    from causalkit.datasets import make_cfd_data
    from causalkit.frontdoor import CFDiVAE

    d = make_cfd_data(3000, random_state=1)          # the quick demo's row, fewer epochs
    CFDiVAE(hidden=64, epochs=4, batch_size=64, lr=2e-3, n_boot=10, verbose=True,
            random_state=0).fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)
    err = capsys.readouterr().err
    assert "CFDiVAE epochs" in err and "4/4" in err and "train loss" in err
    assert "bootstrap: 100%" in err and "10/10" in err
