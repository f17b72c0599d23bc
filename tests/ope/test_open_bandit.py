"""The Open Bandit Dataset sample read from the installed obp package (test-only dependency)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("obp")

from causalkit.datasets import load_open_bandit  # noqa: E402
from causalkit.ope import SNIPS  # noqa: E402


def test_loader_reads_the_bundled_files():
    d = load_open_bandit("bts", "men", as_frame=True)
    assert d.X.shape == (10_000, len(d.feature_names))
    assert d.n_actions == 34 and d.action.min() >= 0 and d.action.max() < 34
    assert set(np.unique(d.position)) == {0, 1, 2}
    assert set(np.unique(d.y)) <= {0.0, 1.0}
    assert (d.propensity > 0).all() and (d.propensity <= 1).all()
    r = load_open_bandit("random", "men")
    np.testing.assert_allclose(r.propensity, 1 / 34)  # uniform over items in each slot


def test_uniform_policy_from_thompson_logs_agrees_with_its_on_policy_value():
    # the random campaign's click rate is the on-policy truth; SNIPS on the BTS logs
    # estimates the same quantity from independent traffic
    rnd, bts = load_open_bandit("random", "all"), load_open_bandit("bts", "all")
    truth, truth_se = rnd.y.mean(), np.sqrt(rnd.y.mean() * (1 - rnd.y.mean()) / len(rnd.y))
    v = SNIPS(n_actions=80).fit(bts.X, bts.y, action=bts.action, propensity=bts.propensity).value(
        np.full((len(bts.y), 80), 1 / 80))
    assert abs(v.value - truth) < 4 * np.hypot(v.stderr, truth_se)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`campaign` must be"):
        load_open_bandit("bts", "kids")
    with pytest.raises(ValueError, match=r"`behavior_policy` must be"):
        load_open_bandit("ucb", "all")
