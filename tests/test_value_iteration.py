"""Exact solvers against brute force, and the shaping theorem on random MDPs."""

import functools

import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs.tabular import TabularMDP
from specgym.rl.value_iteration import solve


def no_chance(values):
    """Deterministic MDPs: the chance step's expectation is the identity (one function, so one compile)."""
    return values


def random_mdp(rng, levels=2, states=5, actions=3, terminal_prob=0.15):
    next_state = rng.integers(0, states, size=(levels, states, actions))
    terminated = rng.random((levels, states, actions)) < terminal_prob
    return TabularMDP(
        next_state=jnp.asarray(next_state, jnp.int32), terminated=jnp.asarray(terminated),
        initial=jnp.asarray(rng.integers(0, states, size=levels), jnp.int32),
        level_weights=jnp.full((levels,), 1.0 / levels), horizon=6, expect=no_chance,
        _rewards=None)


def brute_force(mdp, reward, horizon, mode, discount=1.0):
    """Expectimax by plain recursion over the time-indexed tree."""
    nxt, term, r = (np.asarray(x) for x in (mdp.next_state, mdp.terminated, reward))

    @functools.cache
    def value(level, s, steps_left):
        if steps_left == 0:
            return 0.0
        qs = [r[level, s, a] + (0.0 if term[level, s, a] else discount * value(level, int(nxt[level, s, a]), steps_left - 1))
              for a in range(nxt.shape[2])]
        return max(qs) if mode == "optimal" else float(np.mean(qs))

    w = np.asarray(mdp.level_weights)
    return sum(w[l] * value(l, int(mdp.initial[l]), horizon) for l in range(nxt.shape[0]))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("mode", ["optimal", "random"])
def test_finite_horizon_values_match_brute_force(seed, mode):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng)
    reward = jnp.asarray(rng.normal(size=mdp.shape), jnp.float32)
    got = float(solve(mdp, reward, mode).expected_return)
    assert got == pytest.approx(brute_force(mdp, reward, mdp.horizon, mode), rel=1e-5, abs=1e-5)


def test_discounted_values_match_brute_force():
    rng = np.random.default_rng(11)
    mdp = random_mdp(rng)
    reward = jnp.asarray(rng.normal(size=mdp.shape), jnp.float32)
    got = float(solve(mdp, reward, "optimal", horizon=5, discount=0.8).expected_return)
    assert got == pytest.approx(brute_force(mdp, reward, 5, "optimal", 0.8), rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("seed", range(100))
def test_potential_shaping_keeps_optimal_policy_on_random_mdps(seed):
    """Ng et al. 1999: Q_shaped(s, a) = Q(s, a) - phi(s), so the greedy policy cannot change."""
    rng = np.random.default_rng(100 + seed)
    mdp = random_mdp(rng, states=6, actions=3)
    gamma, horizon = 0.9, 400  # gamma**horizon ~ 5e-19: the discounted fixed point
    reward = rng.normal(size=mdp.shape)
    phi = rng.normal(size=(mdp.shape[0], mdp.shape[1])) * 3
    levels = np.arange(mdp.shape[0])[:, None, None]
    phi_next = np.where(np.asarray(mdp.terminated), 0.0, phi[levels, np.asarray(mdp.next_state)])
    shaped = reward + gamma * phi_next - phi[:, :, None]
    q = np.asarray(solve(mdp, jnp.asarray(reward, jnp.float32), horizon=horizon, discount=gamma).q_values)
    q_shaped = np.asarray(solve(mdp, jnp.asarray(shaped, jnp.float32), horizon=horizon, discount=gamma).q_values)
    np.testing.assert_allclose(q_shaped, q - phi[:, :, None], atol=1e-3)
    np.testing.assert_array_equal(q_shaped.argmax(-1), q.argmax(-1))


def test_naive_shaping_changes_optimal_policy_on_some_random_mdps():
    """The counterpart: a bonus for entering one state (not of the form gamma * phi(s') - phi(s))
    changes the greedy policy on some of the same 100 random MDPs, so the theorem's form matters."""
    gamma, horizon = 0.9, 400
    changed = 0
    for seed in range(100):
        rng = np.random.default_rng(100 + seed)
        mdp = random_mdp(rng, states=6, actions=3)
        reward = rng.normal(size=mdp.shape)
        bonus = np.where(np.asarray(mdp.next_state) == 0, 2.0, 0.0)  # paid on every entry, like a key bonus
        q = np.asarray(solve(mdp, jnp.asarray(reward, jnp.float32), horizon=horizon, discount=gamma).q_values)
        q_naive = np.asarray(solve(mdp, jnp.asarray(reward + bonus, jnp.float32), horizon=horizon,
                                   discount=gamma).q_values)
        ordered = np.sort(q, axis=-1)
        clear = ordered[..., -1] - ordered[..., -2] > 1e-3  # states whose best action is unique
        changed += bool(np.any((q_naive.argmax(-1) != q.argmax(-1)) & clear))
    assert changed >= 10


def test_a_level_set_too_large_to_enumerate_is_refused_naming_the_limit(monkeypatch):
    import specgym.envs
    from specgym.envs import tabular
    from specgym.errors import ScenarioError

    env, params = specgym.envs.make("coin-run", "train", num_levels=8)
    entries = 8 * env.num_tabular_states(params) * env.num_actions
    monkeypatch.setattr(tabular, "MAX_TABLE_ENTRIES", entries - 1)
    with pytest.raises(ScenarioError, match=f"limit of {entries - 1:,}"):
        tabular.to_tabular(env, params)
    monkeypatch.setattr(tabular, "MAX_TABLE_ENTRIES", entries)
    assert tabular.to_tabular(env, params).shape == (8, env.num_tabular_states(params), env.num_actions)
