import numpy as np
import pytest

from specgym.stats import bootstrap_ci, iqm, normalised_score, summarize


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm([1, 2, 3, 4, 5, 6, 7, 100]) == pytest.approx(np.mean([3, 4, 5, 6]))
    assert iqm([5.0]) == 5.0
    assert iqm([1, 2, 3]) == pytest.approx(2.0)


def test_bootstrap_interval_contains_iqm_and_is_reproducible():
    x = np.random.default_rng(0).normal(size=16)
    low, high = bootstrap_ci(x)
    assert low <= iqm(x) <= high
    assert (low, high) == bootstrap_ci(x)
    assert bootstrap_ci(np.full(8, 2.0)) == (2.0, 2.0)


def test_summary_and_normalised_score():
    s = summarize([0.0, 1.0])
    assert s["per_seed"] == [0.0, 1.0] and len(s["ci95"]) == 2
    assert normalised_score(5.0, 0.0, 10.0) == pytest.approx(0.5)
    assert normalised_score(-50.0, -50.0, 100.0) == pytest.approx(0.0)
    assert np.isnan(normalised_score(1.0, 2.0, 2.0))
