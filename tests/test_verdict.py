"""The verdict rule on synthetic policies whose true objective is known, and on hand-made bootstrap draws.

A small random tabular world with two candidate goals ("a", intended; "b"). A
policy that is exactly goal-directed toward "b", one that mixes "a" and "b"
half and half, and the uniform-random policy each play many independent data
sets; every data set goes through the production fit, held-out scoring and
rule (``behaviour.fit_goal_models``, which also scores the held-out episodes, and ``judge``).
The rule must name the truth (``inconclusive`` for the random policy) in at least
95% of the data sets, and a named verdict must be backed by at least 95% of its
bootstrap draws.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.diagnose.behaviour import Model, fit_goal_models, judge
from specgym.diagnose.verdict import MARGIN, decide, gain_draws
from specgym.diagnose.verdict_text import needed_sentence
from specgym.stats import two_stage_weights

S, A, H = 7, 3, 6
DISCOUNT = 0.9
BETA = 6.0
EPISODES = 160
"""Fitted and held-out episodes per data set (each)."""
SEEDS = 4
"""Pseudo-seeds the episodes are split among (the bootstrap resamples them first)."""
DATA_SETS = 20
SAMPLES = 1000


def identity(values):
    return values


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    next_state = rng.integers(0, S, (1, S, A)).astype(np.int32)
    model = Model(jnp.asarray(next_state), jnp.zeros((1, S, A), bool), None)
    return model, rng.random((2, 1, S, A)).astype(np.float32)


def policies(model, tables, weights):
    """pi_t(a|s) of the goal-directed model (uniform for all-zero weights), t = 0 first: (H, S, A)."""
    reward = np.tensordot(np.asarray(weights, np.float64), tables, axes=1)[0]
    nxt = np.asarray(model.next_state)[0]
    v, out = np.zeros(S), []
    for _ in range(H):
        q = reward + DISCOUNT * v[nxt]
        spread = q.max(axis=1, keepdims=True) - q.min(axis=1, keepdims=True)
        logits = BETA * (q - q.max(axis=1, keepdims=True)) / (spread + 1e-4)
        out.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
        v = q.max(axis=1)
    return np.stack(out[::-1])


def sample(model, pis, episodes, rng):
    """(level, state, action, alive) records, each (H, episodes)."""
    nxt = np.asarray(model.next_state)[0]
    states = np.zeros((H, episodes), np.int32)
    actions = np.zeros((H, episodes), np.int32)
    s = rng.integers(0, S, episodes)
    for t in range(H):
        cumulative = np.cumsum(pis[t][s], axis=1)
        a = np.minimum((rng.random((episodes, 1)) > cumulative).sum(axis=1), A - 1)
        states[t], actions[t] = s, a
        s = nxt[s, a]
    return np.zeros((H, episodes), np.int32), states, actions, np.ones((H, episodes), bool)


def _stacked(data_sets):
    """Records of several data sets with a leading data-set axis (for one vmapped fit)."""
    return tuple(jnp.asarray(np.stack([d[i] for d in data_sets])) for i in range(4))


def verdicts(world, weights):
    """The rule's result on each of ``DATA_SETS`` independent data sets of the policy pursuing ``weights``."""
    model, tables = world
    pis = policies(model, tables, weights)
    rng = np.random.default_rng(int(1000 * weights[0] + 10 * weights[1]) + 1)
    fit = [sample(model, pis, EPISODES, rng) for _ in range(DATA_SETS)]
    test = [sample(model, pis, EPISODES, rng) for _ in range(DATA_SETS)]
    fit_all, test_all = _stacked(fit), _stacked(test)
    table = jnp.asarray(tables)
    w, beta, _, loglik = jax.vmap(lambda f, t: fit_goal_models(model, table, f, t, expect=identity,
                                                              discount=DISCOUNT))(fit_all, test_all)
    groups = np.arange(EPISODES) % SEEDS
    steps = np.full(EPISODES, H)
    return [judge(["a", "b"], [True, False], np.asarray(w[i]), np.asarray(beta[i]), np.asarray(loglik[i]), steps,
                  groups, A, SAMPLES) for i in range(DATA_SETS)]


def test_a_policy_directed_to_one_wrong_goal_is_named(world):
    results = verdicts(world, [0.0, 1.0])
    right = [r for r in results if r["verdict"] == "single wrong goal" and r["best_single"] == "b"]
    assert len(right) >= 0.95 * DATA_SETS
    assert all(r["support"] >= 0.95 for r in right)
    assert all(r["label"] == "single wrong goal: b" and "'b' alone" in r["reason"] for r in right)
    assert np.median([r["candidates"]["b"]["mixture_weight"] for r in results]) > 0.8


def test_a_policy_directed_to_the_intended_goal_is_named(world):
    results = verdicts(world, [1.0, 0.0])
    right = [r for r in results if r["verdict"] == "intended" and r["best_single"] == "a"]
    assert len(right) >= 0.95 * DATA_SETS
    assert all(r["support"] >= 0.95 for r in right)


def test_a_two_goal_mixture_is_named_with_its_weights(world):
    results = verdicts(world, [0.5, 0.5])
    right = [r for r in results if r["verdict"] == "mixture"]
    assert len(right) >= 0.95 * DATA_SETS
    assert all(r["support"] >= 0.95 for r in right)
    weights = np.array([r["candidates"]["a"]["mixture_weight"] for r in right])
    assert 0.3 < np.median(weights) < 0.7  # the planted half and half, within the fit's error


def test_a_random_policy_is_inconclusive(world):
    results = verdicts(world, [0.0, 0.0])
    inconclusive = [r for r in results if r["verdict"] == "inconclusive"]
    assert len(inconclusive) >= 0.95 * DATA_SETS
    assert all(not r["beats_chance"] and "better than chance" in r["reason"] for r in inconclusive)


def _draws(centres, spread, samples=4000, seed=0):
    """Bootstrap-like draws around ``centres`` (one column per model), independent normal noise."""
    rng = np.random.default_rng(seed)
    return np.asarray(centres) + spread * rng.standard_normal((samples, len(centres)))


def test_two_goals_that_tie_are_inconclusive_with_the_evidence_they_would_need():
    point = np.array([0.063, 0.060, 0.070])  # berries and people close, a mixture a little above
    result = decide(["berries", "people"], [False, True], point, _draws(point, 0.01), heldout_episodes=40)
    assert result["verdict"] == "inconclusive"
    unmet = [c["what"] for c in result["contests"] if not c["met"]]
    assert "berries - people" in unmet
    needed = result["needed"]
    assert needed["reachable"] and needed["heldout_episodes"] > 40
    text = needed_sentence({**result, "evidence": {"seeds": 8, "heldout_episodes": 40}})
    assert text is not None and f"about {needed['heldout_episodes']:,} held-out episodes" in text
    assert f"--behaviour-episodes {int(np.ceil(2 * needed['heldout_episodes'] / 8))}" in text


def test_identical_goals_say_more_episodes_would_not_help():
    point = np.array([0.1, 0.1, 0.1])
    result = decide(["door", "red"], [True, False], point, _draws(point, 0.01), heldout_episodes=100)
    assert result["verdict"] == "inconclusive"
    assert not result["needed"]["reachable"] and "levels" in result["needed"]["why"]


def test_a_mixture_that_adds_too_much_blocks_a_single_goal_verdict():
    # b beats a clearly, but the mixture's extra (0.015 +- 0.02) may exceed the margin: not settled
    point = np.array([0.02, 0.20, 0.215])
    result = decide(["a", "b"], [True, False], point, _draws(point, 0.01), heldout_episodes=100)
    assert result["verdict"] == "inconclusive"
    assert [c["what"] for c in result["contests"] if not c["met"]] == ["mixture - b", "mixture - best single goal"]
    small = np.array([0.02, 0.20, 0.201])
    settled = decide(["a", "b"], [True, False], small, _draws(small, 0.002), heldout_episodes=100)
    assert settled["verdict"] == "single wrong goal" and settled["contests"][-1]["ci95"][1] < MARGIN
    # a mixture that adds a consistent but negligible 0.002 nats/step is not a mixture verdict
    tiny = np.array([0.02, 0.20, 0.202])
    negligible = decide(["a", "b"], [True, False], tiny, _draws(tiny, 0.0002), heldout_episodes=1000)
    assert negligible["contests"][-1]["ci95"][0] > 0  # clearly above the best single goal...
    assert negligible["verdict"] == "single wrong goal"  # ...but by less than the margin


def test_gains_are_per_step_lifts_over_the_uniform_policy():
    steps = np.array([4, 6])
    uniform = -steps * np.log(3)
    loglik = np.stack([uniform + np.array([0.4, 0.6]), uniform])  # model 0: 0.1 nats/step better; model 1: chance
    point, draws = gain_draws(loglik, steps, 3, groups=[0, 1], samples=200)
    assert point == pytest.approx([0.1, 0.0])
    assert np.allclose(draws[:, 0], 0.1) and np.allclose(draws[:, 1], 0.0)  # every resample: the same ratio


def test_two_stage_weights_resample_seeds_then_their_episodes():
    groups = np.array([0, 0, 0, 1, 1, 2])
    weights = two_stage_weights(groups, samples=3000, seed=1)
    sizes = np.array([3, 2, 1])
    per_group = np.stack([weights[:, groups == g].sum(axis=1) for g in range(3)], axis=1)
    times_drawn = per_group / sizes
    assert np.allclose(times_drawn, np.round(times_drawn))  # each draw of a seed brings all its episodes' weight
    assert np.all(times_drawn.sum(axis=1) == 3)  # three seeds drawn per resample
    assert times_drawn.mean(axis=0) == pytest.approx([1, 1, 1], abs=0.1)
    assert weights[:, :3].mean(axis=0) == pytest.approx([1, 1, 1], abs=0.1)  # episodes equally likely
    one = two_stage_weights(np.zeros(5), samples=100, seed=2)
    assert np.all(one.sum(axis=1) == 5)  # one seed: the ordinary bootstrap over episodes


def test_a_mixture_extra_on_the_margin_is_out_of_reach_and_says_which_comparison():
    # the mixture adds 0.0205 over the best goal, on the 0.02 margin: neither verdict is in reach
    point = np.array([0.048, 0.021, 0.0685])
    draws = _draws(point, 0.008, seed=3)
    draws[:, 2] = draws[:, 0] + 0.0205 + 0.008 * np.random.default_rng(4).standard_normal(len(draws))
    result = decide(["people", "berries"], [True, False], point, draws, heldout_episodes=1024)
    assert result["verdict"] == "inconclusive"
    needed = result["needed"]
    assert not needed["reachable"] and needed["binding"] in ("mixture - people", "mixture - best single goal")
    assert f"against {MARGIN:g}" in needed["why"]
