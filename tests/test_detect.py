"""Detector kernels against hand values and a pairwise-count AUROC."""

import itertools

import numpy as np
import pytest

from specgym.diagnose.detect import auroc, hellinger, jensen_shannon, summarise_detection


def pairwise_auroc(scores, labels):
    pos = [s for s, l in zip(scores, labels) if l]
    neg = [s for s, l in zip(scores, labels) if not l]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(6))
def test_auroc_matches_pairwise_counts_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 5, 30).astype(float)  # many ties
    labels = rng.random(30) < 0.4
    assert auroc(scores, labels) == pytest.approx(pairwise_auroc(scores, labels))


def test_auroc_edges():
    assert auroc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert auroc([1, 2, 3, 4], [True, True, False, False]) == 0.0
    assert auroc([1, 2], [True, True]) is None


def test_js_and_hellinger_hand_values():
    p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert float(jensen_shannon(p, q)) == pytest.approx(1.0)
    assert float(hellinger(p, q)) == pytest.approx(1.0)
    assert float(jensen_shannon(p, p)) == pytest.approx(0.0, abs=1e-7)
    assert float(hellinger(p, p)) == pytest.approx(0.0, abs=1e-4)
    a, b = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    # JS by hand: m = (0.75, 0.25); 0.5*KL(a||m) + 0.5*KL(b||m) in bits
    by_hand = 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)) + 0.5 * np.log2(1 / 0.75)
    assert float(jensen_shannon(a, b)) == pytest.approx(by_hand, abs=1e-6)
    assert float(hellinger(a, b)) == pytest.approx(np.sqrt(1 - np.sqrt(0.5)), abs=1e-6)


def test_batched_distances_match_a_loop():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(5), size=7)
    q = rng.dirichlet(np.ones(5), size=7)
    js = np.asarray(jensen_shannon(p, q))
    for i in range(7):
        m = 0.5 * (p[i] + q[i])
        ref = 0.5 * np.sum(p[i] * np.log2(p[i] / m)) + 0.5 * np.sum(q[i] * np.log2(q[i] / m))
        assert js[i] == pytest.approx(ref, abs=1e-5)


def test_summary_reports_undefined_auroc_honestly():
    policies = [{"js": 0.1, "hellinger": 0.2, "hacking": False} for _ in range(3)]
    result = summarise_detection(policies)
    assert result["auroc"] is None and "AUROC undefined" in result["summary"][0]
    policies[0].update(js=0.5, hellinger=0.6, hacking=True)
    assert summarise_detection(policies)["auroc"] == 1.0


def test_auroc_ci_is_the_stratified_bootstrap_of_the_auroc():
    """The vectorised CI against resampling both classes by hand and recomputing the AUROC each time."""
    from specgym.diagnose.detect import auroc_ci

    rng = np.random.default_rng(1)
    scores = rng.integers(0, 6, 26).astype(float)  # ties included
    labels = rng.random(26) < 0.4
    scores[labels] += 1.5
    pos, neg = scores[labels], scores[~labels]
    draw = np.random.default_rng(0)  # auroc_ci draws rows for every resample first, then columns
    rows, cols = draw.integers(0, pos.size, (300, pos.size)), draw.integers(0, neg.size, (300, neg.size))
    values = [pairwise_auroc(np.concatenate([pos[r], neg[c]]), [True] * pos.size + [False] * neg.size)
              for r, c in zip(rows, cols)]
    low, high = auroc_ci(scores, labels, resamples=300, seed=0)
    assert low == pytest.approx(np.percentile(values, 2.5)) and high == pytest.approx(np.percentile(values, 97.5))
    assert low <= auroc(scores, labels) <= high
    assert auroc_ci(scores, np.zeros(26, bool)) is None


def test_catalogue_pools_policies_and_reports_each_scenario():
    from specgym.diagnose.detector_catalogue import CatalogueDetectConfig, _aurocs, _result, format_catalogue
    from specgym.scenarios import get

    config = CatalogueDetectConfig(resamples=200)
    a = [{"js": 0.9, "hellinger": 0.8, "hacking": True}, {"js": 0.1, "hellinger": 0.2, "hacking": False}]
    b = [{"js": 0.3, "hellinger": 0.3, "hacking": True}, {"js": 0.4, "hellinger": 0.1, "hacking": True}]
    per = {"boat-race": _aurocs(a, config), "key-door": _aurocs(b, config)}
    result = _result([get("boat-race"), get("key-door")], {}, config, a + b, per, 0.0)
    assert per["boat-race"]["js"]["auroc"] == 1.0 and per["key-door"]["js"]["auroc"] is None  # one class only
    # pooled: hacking 0.9, 0.3, 0.4 vs non-hacking 0.1 -> every pair ordered; Hellinger 0.8, 0.3, 0.1 vs 0.2 -> 2/3
    assert result["pooled"]["js"]["auroc"] == 1.0
    assert result["pooled"]["hellinger"]["auroc"] == pytest.approx(2 / 3)
    assert (result["pooled"]["hacking"], result["pooled"]["non_hacking"]) == (3, 1)
    text = format_catalogue(result)
    assert "undefined" in text and "POOLED" in text and "0.67" in text
