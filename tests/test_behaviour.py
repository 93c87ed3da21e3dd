"""Goal inference: the likelihood against a loop reference, and planted single / mixed goals recovered."""

import jax.numpy as jnp
import numpy as np
import pytest

from specgym.diagnose.behaviour import Model, fit_goal_models, goal_log_likelihood, heldout_log_likelihoods, judge
from specgym.diagnose.verdict import decide

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
    loglik = heldout_log_likelihoods(model, jnp.asarray(tables), w, beta, test, expect=identity, discount=DISCOUNT)
    assert np.asarray(loglik).sum(axis=1) == pytest.approx(np.asarray(test_ll), rel=1e-4)  # per episode, same sum
    result = judge(["a", "b"], [True, False], w, beta, loglik, np.full(300, H), np.arange(300) % 4, A)
    return (result["verdict"], result["reason"]), np.asarray(w[2])


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


def test_no_goal_clearly_above_chance_is_inconclusive():
    # held-out gains over chance (nats/step) of a, b and the mixture, each uncertain by about 0.01
    point = np.array([-1.09, -1.095, -1.09]) + np.log(3)
    draws = point + 0.01 * np.random.default_rng(0).standard_normal((2000, 3))
    result = decide(["a", "b"], [True, False], point, draws, heldout_episodes=50)
    assert result["verdict"] == "inconclusive" and not result["beats_chance"]


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


def test_episodes_restricted_to_some_levels_start_only_there():
    import jax

    from specgym.diagnose.behaviour import on_levels
    from specgym.scenarios import get

    setup = get("red-door").setup({"num_levels": 16})
    env, params = setup.env, setup.deploy_params
    keys = jax.random.split(jax.random.PRNGKey(0), 256)
    _, state = jax.jit(jax.vmap(on_levels(env, [3, 5]).reset, in_axes=(0, None)))(keys, params)
    assert set(np.asarray(state.inner.level).tolist()) == {3, 5}
    _, everywhere = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)  # the original is untouched
    assert len(set(np.asarray(everywhere.inner.level).tolist())) == 16


def test_an_untrained_policy_on_a_real_scenario_is_inconclusive():
    """The whole behaviour part on red-door's deploy levels, with near-uniform (untrained) policies of 2 seeds."""
    import jax

    from specgym.diagnose.behaviour import explain_behaviour
    from specgym.rl import networks
    from specgym.rl.ppo import PPO
    from specgym.scenarios import get

    scenario = get("red-door")
    setup = scenario.setup({"num_envs": 4, "num_levels": 16})
    ppo = PPO(setup.trainer, setup.env, setup.deploy_params)  # its network sizes; nothing is trained
    nets = jax.vmap(lambda k: networks.init_actor_critic(k, ppo.obs_size, ppo.num_actions, setup.trainer.hidden,
                                                         ppo.board))(jax.random.split(jax.random.PRNGKey(1), 2))
    result = explain_behaviour(scenario, setup, nets, jax.random.PRNGKey(2), episodes=16, fit_episodes=32,
                               max_levels=2, samples=500)
    assert result["applies"] and result["verdict"] == "inconclusive" and result["label"] == "inconclusive"
    evidence = result["evidence"]
    assert len(evidence["fit_levels"]) == 2 and evidence["seeds"] == 2 and evidence["heldout_episodes"] == 32
    assert set(result["candidates"]) == {"door", "red"} and "needed" in result
    assert result["summary"][0].startswith("inconclusive (") and result["summary"][-1].startswith("more evidence")
