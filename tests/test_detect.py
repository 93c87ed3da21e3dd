"""Detector kernels against hand values and a pairwise-count AUROC."""

import itertools

import numpy as np
import pytest

from specgym.diagnose.detect import auroc, hellinger, jensen_shannon, summarise_detection, why_no_auroc


def pairwise_auroc(scores, labels):
    pos = [s for s, l in zip(scores, labels, strict=True) if l]
    neg = [s for s, l in zip(scores, labels, strict=True) if not l]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(6))
def test_auroc_matches_pairwise_counts_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 5, 30).astype(float)  # many ties
    labels = rng.random(30) < 0.4
    assert auroc(scores, labels) == pytest.approx(pairwise_auroc(scores, labels))


def test_auroc_known_value_with_a_tie():
    # hacking 0.9, 0.8, 0.4 vs 0.7, 0.4, 0.1: 0.9 and 0.8 beat all three, 0.4 beats 0.1 and ties 0.4 -> 7.5 of 9 pairs
    scores = [0.9, 0.7, 0.8, 0.4, 0.4, 0.1]
    labels = [True, False, True, True, False, False]
    assert auroc(scores, labels) == pytest.approx(7.5 / 9)


def test_auroc_is_the_mann_whitney_statistic():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    pos, neg = rng.integers(0, 6, 11).astype(float), rng.integers(0, 6, 17).astype(float)
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    scores, labels = np.concatenate([pos, neg]), np.r_[np.ones(11, bool), np.zeros(17, bool)]
    assert auroc(scores, labels) == pytest.approx(u / (11 * 17))


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


def test_an_undefined_auroc_says_why():
    same = [{"js": 0.1, "hacking": False, "proxy_score": s, "intended_score": s} for s in (0.2, 0.9)]
    assert "specified reward is its intended reward" in why_no_auroc("coin-run", same)
    honest = [{"js": 0.1, "hacking": False, "proxy_score": 0.5, "intended_score": 0.4} for _ in range(3)]
    assert why_no_auroc("boat-race", honest).startswith("none of the 3 policies hacks")
    hackers = [{"js": 0.1, "hellinger": 0.2, "hacking": True, "proxy_score": 0.9, "intended_score": 0.0}
               for _ in range(2)]
    assert why_no_auroc("boat-race", hackers).startswith("all 2 policies hack")
    assert "nan" not in " ".join(summarise_detection(hackers)["summary"])  # no empty class printed as a number


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
              for r, c in zip(rows, cols, strict=True)]
    low, high = auroc_ci(scores, labels, resamples=300, seed=0)
    assert low == pytest.approx(np.percentile(values, 2.5)) and high == pytest.approx(np.percentile(values, 97.5))
    assert low <= auroc(scores, labels) <= high
    assert auroc_ci(scores, np.zeros(26, bool)) is None


def _policy(js, hel, hacking, rl_js, rl_hel):
    """A scored policy as ``score_policies`` writes it: the first reference's distances also at top level."""
    return {"js": js, "hellinger": hel, "hacking": hacking,
            "distances": {"demos": {"js": js, "hellinger": hel}, "rl": {"js": rl_js, "hellinger": rl_hel}}}


def test_catalogue_pools_policies_and_reports_each_scenario_and_reference():
    from specgym.diagnose.detector_catalogue import CatalogueDetectConfig, _aurocs, _result, format_catalogue
    from specgym.scenarios import get

    config = CatalogueDetectConfig(resamples=200, references=("demos", "rl"))
    a = [_policy(0.9, 0.8, True, 0.2, 0.2), _policy(0.1, 0.2, False, 0.7, 0.6)]
    b = [_policy(0.3, 0.3, True, 0.5, 0.5), _policy(0.4, 0.1, True, 0.9, 0.9)]
    per = {"boat-race": _aurocs(a, config), "key-door": _aurocs(b, config)}
    per["boat-race"]["references"] = {"demos": {"intended_score": {"iqm": 0.93}}}
    result = _result([get("boat-race"), get("key-door")], {}, config, a + b, per, 0.0)
    assert per["boat-race"]["js"]["auroc"] == 1.0 and per["key-door"]["js"]["auroc"] is None  # one class only
    # pooled: hacking 0.9, 0.3, 0.4 vs non-hacking 0.1 -> every pair ordered; Hellinger 0.8, 0.3, 0.1 vs 0.2 -> 2/3
    assert result["pooled"]["js"]["auroc"] == 1.0
    assert result["pooled"]["hellinger"]["auroc"] == pytest.approx(2 / 3)
    assert result["pooled"]["by_reference"]["demos"]["js"] == result["pooled"]["js"]
    # the rl reference: hacking 0.2, 0.5, 0.9 vs 0.7 -> one of three pairs ordered
    assert result["pooled"]["by_reference"]["rl"]["js"]["auroc"] == pytest.approx(1 / 3)
    assert per["boat-race"]["by_reference"]["rl"]["hellinger"]["auroc"] == 0.0
    assert (result["pooled"]["hacking"], result["pooled"]["non_hacking"]) == (3, 1)
    text = format_catalogue(result)
    assert "undefined" in text and text.count("POOLED") == 2 and "0.67" in text and "0.33" in text
    assert "0.93" in text  # the reference's own intended score


def test_even_handed_expert_draws_only_and_evenly_among_tied_best_actions():
    from types import SimpleNamespace

    import jax
    import jax.numpy as jnp

    from specgym.diagnose.detect import even_handed_expert

    class Env:  # reads the tabular address straight from the state
        level_of = staticmethod(lambda inner: inner["level"])
        encode = staticmethod(lambda inner, params: inner["cell"])

    env = Env()
    q = jnp.zeros((2, 3, 4)).at[1, 2].set(jnp.array([5.0, 2.0, 5.0, 5.0 - 1e-6]))
    act = even_handed_expert(env)
    state = SimpleNamespace(inner={"level": jnp.asarray(1), "cell": jnp.asarray(2)})
    actions = np.asarray(jax.vmap(lambda k: act((q, None), None, state, k))(jax.random.split(jax.random.PRNGKey(0),
                                                                                             6000)))
    counts = np.bincount(actions, minlength=4) / actions.size
    assert counts[1] == 0  # never a worse action
    np.testing.assert_allclose(counts[[0, 2, 3]], 1 / 3, atol=0.03)  # 5 - 1e-6 is a tie at the tolerance


def test_demo_reference_is_competent_on_the_intended_task():
    """Clones of the exact intended-reward expert do the intended task on boat-race: laps, not dithering."""
    import jax

    from specgym.diagnose.detect import demo_reference, reference_scores
    from specgym.scenarios import get

    setup = get("boat-race").setup({}, {})
    nets, steps = demo_reference(setup.env, setup.train_params, 2, jax.random.PRNGKey(0), 8)
    assert steps == 8 * int(np.asarray(setup.train_params.max_steps))  # no episode ends early on the track
    scores = reference_scores(setup, nets, jax.random.PRNGKey(1), 8)
    assert min(scores["intended_score"]["per_seed"]) > 0.8
