"""Goal inference: the likelihood against a loop reference, and planted single / mixed goals recovered."""

import jax.numpy as jnp
import numpy as np
import pytest

from specgym.diagnose.behaviour import Model, classify, fit_goal_models, goal_log_likelihood

L, S, A, H = 1, 7, 3, 6
DISCOUNT = 0.9


def identity(values):
    return values


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    next_state = rng.integers(0, S, (L, S, A)).astype(np.int32)
    terminated = np.zeros((L, S, A), bool)
    tables = rng.random((2, L, S, A)).astype(np.float32)
    return Model(jnp.asarray(next_state), jnp.asarray(terminated), None), tables


def loop_policies(model, tables, weights, beta):
    """pi_t(a|s) by plain backward induction, one state and action at a time."""
    reward = np.tensordot(weights, tables, axes=1)[0]
    nxt = np.asarray(model.next_state)[0]
    v = np.zeros(S)
    policies = []
    for _ in range(H):
        q = np.array([[reward[s, a] + DISCOUNT * v[nxt[s, a]] for a in range(A)] for s in range(S)])
        pi = np.zeros((S, A))
        for s in range(S):
            adv = beta * (q[s] - q[s].max()) / (q[s].max() - q[s].min() + 1e-4)
            pi[s] = np.exp(adv) / np.exp(adv).sum()
        policies.append(pi)
        v = q.max(axis=1)
    return policies[::-1]  # index t = 0 first


def sample(model, tables, weights, beta, episodes, seed):
    rng = np.random.default_rng(seed)
    pis = loop_policies(model, tables, np.asarray(weights), beta)
    nxt = np.asarray(model.next_state)[0]
    states = np.zeros((H, episodes), np.int32)
    actions = np.zeros((H, episodes), np.int32)
    s = rng.integers(0, S, episodes)
    for t in range(H):
        a = np.array([rng.choice(A, p=pis[t][x]) for x in s])
        states[t], actions[t] = s, a
        s = nxt[s, a]
    return (jnp.zeros((H, episodes), jnp.int32), jnp.asarray(states), jnp.asarray(actions),
            jnp.ones((H, episodes), bool))


def test_likelihood_matches_the_loop_reference(world):
    model, tables = world
    weights, beta = np.array([0.3, 0.7], np.float32), 2.5
    records = sample(model, tables, weights, beta, 20, seed=1)
    pis = loop_policies(model, tables, weights, beta)
    expected = sum(np.log(pis[t][int(records[1][t, e]), int(records[2][t, e])]) for t in range(H) for e in range(20))
    got = goal_log_likelihood(model, identity, jnp.asarray(tables), jnp.asarray(weights), beta, records, DISCOUNT)
    assert float(got) == pytest.approx(expected, rel=1e-4)
    zero = goal_log_likelihood(model, identity, jnp.asarray(tables), jnp.zeros(2), beta, records, DISCOUNT)
    assert float(zero) == pytest.approx(-H * 20 * np.log(A), rel=1e-5)  # no goal: chance


def _verdict(world, weights, seed):
    model, tables = world
    fit = sample(model, tables, weights, 6.0, 300, seed)
    test = sample(model, tables, weights, 6.0, 300, seed + 100)
    w, beta, fit_ll, test_ll = fit_goal_models(model, jnp.asarray(tables), fit, test, expect=identity,
                                               discount=DISCOUNT)
    steps = H * 300
    per_step = {"single": {"a": float(test_ll[0]) / steps, "b": float(test_ll[1]) / steps},
                "mixture": float(test_ll[2]) / steps, "uniform": -np.log(A)}
    return classify(["a", "b"], [True, False], per_step), np.asarray(w[2])


def test_planted_single_wrong_goal_is_found(world):
    (verdict, reason), mix = _verdict(world, [0.0, 1.0], seed=2)
    assert verdict == "single wrong goal" and "'b' alone" in reason
    assert mix[1] > 0.8


def test_planted_intended_goal_is_found(world):
    (verdict, _), _ = _verdict(world, [1.0, 0.0], seed=3)
    assert verdict == "intended"


def test_planted_mixture_is_found(world):
    (verdict, _), mix = _verdict(world, [0.5, 0.5], seed=4)
    assert verdict == "mixture"
    assert 0.25 < mix[0] < 0.75


def test_classify_unexplained():
    per_step = {"single": {"a": -1.09, "b": -1.095}, "mixture": -1.09, "uniform": -np.log(3)}
    assert classify(["a", "b"], [True, False], per_step)[0] == "unexplained"


def test_level_subset_gives_the_full_models_likelihood():
    """Fitting on the most visited levels only is exact for their episodes (levels do not interact)."""
    from specgym.diagnose.behaviour import _subset_model, fit_levels

    class ChanceFree:  # a stand-in env: deterministic, so the chance expectation is the identity
        def chance_expectation(self, values, level, params):
            return values + 0.0 * level

    rng = np.random.default_rng(3)
    levels = 5
    next_state = jnp.asarray(rng.integers(0, S, (levels, S, A)).astype(np.int32))
    terminated = jnp.asarray(rng.random((levels, S, A)) < 0.1)
    tables = jnp.asarray(rng.random((2, levels, S, A)).astype(np.float32))
    episode_level = np.array([4, 1, 4, 2, 1, 4, 0, 3])
    assert list(fit_levels(episode_level, limit=2)) == [1, 4]  # most visited; ties go to the lower index
    assert list(fit_levels(episode_level, limit=3)) == [0, 1, 4]
    chosen = np.array([1, 4])
    episodes = np.repeat(chosen, 3)
    records = (jnp.asarray(np.tile(episodes, (H, 1))), jnp.asarray(rng.integers(0, S, (H, episodes.size))),
               jnp.asarray(rng.integers(0, A, (H, episodes.size))), jnp.ones((H, episodes.size), bool))
    mdp = type("MDP", (), {"next_state": next_state, "terminated": terminated})
    model, sub_tables, expect = _subset_model(ChanceFree(), None, mdp, tables, chosen)
    renumbered = (jnp.asarray(np.searchsorted(chosen, np.asarray(records[0]))),) + records[1:]
    weights = jnp.asarray([0.4, 0.6])
    full = goal_log_likelihood(Model(next_state, terminated, None), identity, tables, weights, 1.7, records, DISCOUNT)
    part = goal_log_likelihood(model, expect, sub_tables, weights, 1.7, renumbered, DISCOUNT)
    assert float(part) == pytest.approx(float(full), rel=1e-5)
