"""CFDiVAE: the linear two-step, the learned representation, determinism and bad input."""

import pickle
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from causalkit.datasets import make_cfd_data  # noqa: E402
from causalkit.frontdoor import CFDiVAE, linear_cfd_two_step  # noqa: E402
from causalkit.inference import bootstrap  # noqa: E402
from causalkit.utils.validation import FewObservationsWarning  # noqa: E402

FAST = dict(hidden=64, epochs=20, batch_size=64, n_boot=30)
TINY = dict(hidden=32, epochs=5, batch_size=64, n_boot=10)


@pytest.fixture(scope="module")
def data():
    return make_cfd_data(4000, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    return CFDiVAE(random_state=0, **FAST).fit(data.X, data.y, treatment=data.treatment,
                                               proxies=data.proxies)


def test_oracle_two_step_recovers_the_ate_within_two_se():
    d = make_cfd_data(20000, confounder_strength=1.5, random_state=1)
    ate, beta_tz, beta_zy = linear_cfd_two_step(d.mediator, d.X, d.treatment, d.y)
    reps = bootstrap(lambda Z, W, t, y: linear_cfd_two_step(Z, W, t, y)[0], d.mediator, d.X,
                     d.treatment, d.y, n_boot=200, random_state=0)[:, 0]
    se = reps.std(ddof=1)
    assert abs(ate - d.true_ate) < 2 * se
    # a back-door adjustment for W alone is biased by the unobserved confounder
    D = np.column_stack([np.ones(len(d.y)), d.treatment, d.X])
    backdoor = np.linalg.lstsq(D, d.y, rcond=None)[0][1]
    assert backdoor - d.true_ate > 10 * se


def test_two_step_is_invariant_to_an_invertible_linear_map():
    d = make_cfd_data(3000, random_state=2)
    A = np.array([[2.0, -1.0], [0.5, 3.0]])
    a = linear_cfd_two_step(d.mediator, d.X, d.treatment, d.y)[0]
    b = linear_cfd_two_step(d.mediator @ A.T + 7.0, d.X, d.treatment, d.y)[0]
    assert a == pytest.approx(b, rel=1e-10)


def test_representation_recovers_the_mediator_up_to_a_linear_map(fitted, data):
    Zh = fitted.transform(data.X, treatment=data.treatment, proxies=data.proxies)
    assert Zh.shape == (4000, 4)
    D = np.column_stack([np.ones(len(Zh)), Zh[:, fitted.active_dims_]])
    fit = np.linalg.lstsq(D, data.mediator, rcond=None)[0]
    r2 = 1 - ((data.mediator - D @ fit) ** 2).sum(0) / ((data.mediator - data.mediator.mean(0)) ** 2).sum(0)
    assert np.all(r2 > 0.9)
    # the two true dimensions are found; surplus dimensions collapse to the prior
    assert 2 <= fitted.active_dims_.size < 4
    assert np.sum(fitted.kl_per_dim_ > 0.5) >= 2


def test_ate_is_close_to_the_truth_and_far_from_the_backdoor(fitted, data):
    est = fitted.ate()
    assert "second stage" in est.method
    assert f"{fitted.active_dims_.size} active of 4" in est.method
    # the bootstrap SE holds the representation fixed; allow for the VAE's own error
    assert abs(est.value - data.true_ate) < 3 * est.stderr + 0.1 * data.true_ate
    D = np.column_stack([np.ones(len(data.y)), data.treatment, data.X])
    backdoor = np.linalg.lstsq(D, data.y, rcond=None)[0][1]
    assert abs(backdoor - data.true_ate) > 2 * abs(est.value - data.true_ate)


def test_same_seed_same_numbers_and_inputs_untouched(data):
    P0 = data.proxies.copy()
    kw = dict(TINY, random_state=3)
    a = CFDiVAE(**kw).fit(data.X, data.y, treatment=data.treatment, proxies=data.proxies)
    b = CFDiVAE(**kw).fit(data.X, data.y, treatment=data.treatment, proxies=data.proxies)
    assert a.ate().value == b.ate().value and a.ate().stderr == b.ate().stderr
    np.testing.assert_array_equal(a.history_["train"], b.history_["train"])
    np.testing.assert_array_equal(data.proxies, P0)
    c = CFDiVAE(**{**kw, "random_state": 4}).fit(data.X, data.y, treatment=data.treatment,
                                                   proxies=data.proxies)
    assert c.ate().value != a.ate().value


def test_pickle_round_trip_keeps_the_representation(fitted, data):
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(
        clone.transform(data.X, treatment=data.treatment, proxies=data.proxies),
        fitted.transform(data.X, treatment=data.treatment, proxies=data.proxies), rtol=1e-6)


def test_early_stopping_verbose_and_a_second_stage_estimator(data, capsys):
    class Linear:
        """A duck-typed second stage: the linear two-step with a fixed SE."""

        def fit(self, X, y, *, treatment, mediator):
            self.value = linear_cfd_two_step(mediator, X, treatment, y)[0]
            return self

        def ate(self):
            from causalkit.inference import Estimate
            return Estimate(self.value, 0.1, n=len(data.y), method="stub SE")

        def get_params(self, deep=True):
            return {}

    est = CFDiVAE(**{**TINY, "epochs": 3}, early_stopping=True, patience=1, verbose=True,
                  second_stage=Linear(), random_state=0)
    est.fit(data.X, data.y, treatment=data.treatment, proxies=data.proxies)
    assert len(est.history_["validation"]) == len(est.history_["train"]) <= 3
    err = capsys.readouterr().err     # the tqdm bar over epochs, the losses as its postfix
    # tqdm redraws at most every 0.1 s, so a fast run may skip the 1/3 frame; the closing frame
    # always shows the epochs run (fewer than 3 when early stopping fires)
    n_run = len(est.history_["train"])
    assert "CFDiVAE epochs" in err and f"{n_run}/3" in err and "validation" in err
    assert est.ate().stderr == 0.1 and "stub SE" in est.ate().method


def test_binary_proxies_use_a_bernoulli_decoder():
    d = make_cfd_data(2500, random_state=5)
    P = (d.proxies > 0).astype(float)
    est = CFDiVAE(**{**TINY, "epochs": 10}, random_state=0)
    est.fit(d.X, d.y, treatment=d.treatment, proxies=P)
    assert est.proxy_dist_ == ["bernoulli"] * 4
    assert np.isfinite(est.history_["train"]).all()


def test_bad_input():
    d = make_cfd_data(300, random_state=6)
    est = CFDiVAE(hidden=8, epochs=1, n_boot=5, random_state=0)
    with pytest.raises(ValueError, match="`proxies` must have at least 3 columns"):
        est.fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies[:, :2])
    P = d.proxies.copy()
    P[:, 1] = 1.0
    with pytest.raises(ValueError, match=r"`proxies` column\(s\) \[1\] are constant"):
        est.fit(d.X, d.y, treatment=d.treatment, proxies=P)
    with pytest.raises(ValueError, match="treatment"):
        est.fit(d.X, d.y, treatment=d.treatment + 1, proxies=d.proxies)
    P = d.proxies.copy()
    P[3, 0] = np.nan
    with pytest.raises(ValueError, match="`proxies` contains NaN"):
        est.fit(d.X, d.y, treatment=d.treatment, proxies=P)
    with pytest.raises(ValueError, match="`X` has 299 rows"):
        est.fit(d.X[:-1], d.y, treatment=d.treatment, proxies=d.proxies)
    with pytest.warns(FewObservationsWarning, match="Only 300 units"):
        est.fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)
    with pytest.raises(ValueError, match="The 'bootstrap' parameter of CFDiVAE must be"):
        CFDiVAE(bootstrap="both").fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)


def test_missing_torch_names_the_extra(monkeypatch):
    d = make_cfd_data(300, random_state=7)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"causalkit-inference\[torch\]"):
        CFDiVAE(epochs=1).fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)


def test_frontdoor_estimator_as_the_second_stage(fitted, data):
    from causalkit.frontdoor import FrontDoor

    est = CFDiVAE(second_stage=FrontDoor(method="linear"), **{**FAST, "n_boot": 2},
                  random_state=0).fit(data.X, data.y, treatment=data.treatment,
                                      proxies=data.proxies)
    # FrontDoor's linear product of coefficients on the active dimensions equals the
    # two-step on the same representation (Frisch-Waugh-Lovell), with its delta-method SE
    assert est.ate().value == pytest.approx(fitted.ate().value, rel=1e-6)
    assert "FrontDoor" in est.ate().method and est.ate().stderr > 0
