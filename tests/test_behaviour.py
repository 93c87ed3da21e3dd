"""Goal inference: the likelihood and the fit against loop and brute-force references, and planted single / mixed
goals recovered (an uneven mixture, and a single goal whose ties make the likelihood jump at its corner)."""

import jax.numpy as jnp
import numpy as np
import pytest

from specgym.diagnose.behaviour import (
    BETA_RANGE,
    Model,
    fit_beta,
    fit_goal_models,
    goal_log_likelihood,
    heldout_log_likelihoods,
    judge,
    simplex_grid,
)
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
    np.testing.assert_allclose(np.asarray(test_ll), np.asarray(loglik), rtol=1e-5)  # the fit's own held-out scores
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


@pytest.fixture(scope="module")
def chain():
    """A corridor of S cells (actions left, stay, right; start anywhere): goal "coin" pays for stepping onto
    cell 2, goal "end" for stepping onto the last cell. Two of the three actions often tie, so many states
    have only two distinct action values, and each goal alone leaves ties that any mixing breaks."""
    cells = np.arange(S)
    next_state = np.stack([np.maximum(cells - 1, 0), cells, np.minimum(cells + 1, S - 1)], axis=1)[None]
    tables = np.stack([next_state == 2, next_state == S - 1]).astype(np.float32)
    return Model(jnp.asarray(next_state.astype(np.int32)), jnp.zeros((L, S, A), bool), None), tables


def reference_fit(model, tables, weights, records):
    """(beta, loglik) by brute force: the loop policies' log-likelihood on a dense grid of beta, best point."""
    states, actions = np.asarray(records[1]), np.asarray(records[2])

    def loglik(beta):
        pis = loop_policies(model, tables, np.asarray(weights, np.float64), beta)
        with np.errstate(divide="ignore"):  # a large beta gives some taken actions probability 0: -inf, never best
            return sum(np.log(pis[t][states[t], actions[t]]).sum() for t in range(H))

    coarse = np.geomspace(*BETA_RANGE, 241)  # steps of 6% in beta, then 201 points across the best one's step
    best = coarse[np.argmax([loglik(b) for b in coarse])]
    fine = np.clip(np.geomspace(best / 1.06, best * 1.06, 201), *BETA_RANGE)
    values = [loglik(b) for b in fine]
    return fine[int(np.argmax(values))], max(values)


def test_the_weight_grid_holds_every_corner_and_the_centre():
    for k, step, points in [(2, 1 / 20, 21), (3, 1 / 12, 91), (4, 1 / 6, 85)]:
        grid = simplex_grid(k)
        assert grid.shape == (points, k) and np.allclose(grid.sum(axis=1), 1) and grid.min() >= 0
        assert np.array_equal(grid[:k], np.eye(k))  # the single goals first, in order
        assert np.any(np.all(np.isclose(grid, 1 / k), axis=1))
        off_grid = np.abs(grid / step - np.round(grid / step)).max(axis=1) > 1e-4
        assert off_grid.sum() == (k == 4)  # only the added centre of four goals is not on the 1/6 lattice
        assert len({tuple(row) for row in np.round(grid, 5)}) == points
    assert len(simplex_grid(6)) <= 101


def test_the_rationality_fit_matches_brute_force():
    rng = np.random.default_rng(7)
    advantages = -rng.random((H, 40, A)).astype(np.float32)
    advantages[..., 0] = 0.0  # each state's best action
    pi = np.exp(2.5 * advantages) / np.exp(2.5 * advantages).sum(axis=-1, keepdims=True)
    action = (rng.random((H, 40, 1)) > np.cumsum(pi, axis=-1)).sum(axis=-1)
    alive = rng.random((H, 40)) < 0.9

    def loglik(beta):
        logits = beta * advantages
        log_pi = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return np.where(alive, np.take_along_axis(log_pi, action[..., None], axis=-1)[..., 0], 0.0).sum()

    betas = np.geomspace(*BETA_RANGE, 20001)
    values = np.array([loglik(b) for b in betas])
    beta, ll = fit_beta(jnp.asarray(advantages), jnp.asarray(action), jnp.asarray(alive))
    assert float(beta) == pytest.approx(betas[values.argmax()], rel=2e-3)
    assert float(ll) == pytest.approx(values.max(), rel=1e-5)
    assert float(ll) >= values.max() - 1e-3
    # actions that are always each state's worst: the best rationality is the lower bound (chance-like)
    worst, _ = fit_beta(jnp.asarray(advantages), jnp.asarray(advantages.argmin(axis=-1)), jnp.asarray(alive))
    assert float(worst) == pytest.approx(BETA_RANGE[0], rel=1e-3)


def test_an_uneven_mixture_is_recovered_where_the_centre_fits_worse_than_a_single_goal(chain):
    """Planted 0.8 coin / 0.2 end in the corridor: the fitted mixture lies within one grid step of it, fits at
    least as well as every single goal, and its likelihood and beta agree with a brute-force reference. A fit
    that stayed at the centre would fail: there the likelihood is below the coin goal's alone."""
    model, tables = chain
    planted = np.array([0.8, 0.2])
    fit = sample(model, tables, planted, 6.0, 300, seed=11)
    test = sample(model, tables, planted, 6.0, 300, seed=12)
    weights, beta, fit_ll, _ = fit_goal_models(model, jnp.asarray(tables), fit, test, expect=identity,
                                               discount=DISCOUNT)
    weights, beta, fit_ll = np.asarray(weights), np.asarray(beta), np.asarray(fit_ll)
    assert np.abs(weights[2] - planted).max() <= 1 / 20 + 1e-3  # one step of the grid
    assert np.all(fit_ll[2] >= fit_ll[:2])
    for row in (0, 1, 2):  # the single goals and the chosen mixture, against the slow reference
        ref_beta, ref_ll = reference_fit(model, tables, weights[row], fit)
        assert fit_ll[row] == pytest.approx(ref_ll, rel=1e-3)
        assert beta[row] == pytest.approx(ref_beta, rel=0.02, abs=2e-3)
    _, centre_ll = reference_fit(model, tables, [0.5, 0.5], fit)
    assert centre_ll < fit_ll[:2].max() - 50  # stuck at the centre, the mixture would lose to a single goal


def test_a_single_goal_with_ties_is_fitted_at_its_corner(chain):
    """Planted "end" alone: its ties make the likelihood jump at the corner (any coin weight breaks them), so
    only a fit that can reach the corner exactly ties the single goal; the grid does."""
    model, tables = chain
    fit = sample(model, tables, [0.0, 1.0], 6.0, 300, seed=13)
    test = sample(model, tables, [0.0, 1.0], 6.0, 300, seed=14)
    weights, beta, fit_ll, test_ll = fit_goal_models(model, jnp.asarray(tables), fit, test, expect=identity,
                                                     discount=DISCOUNT)
    assert np.array_equal(np.asarray(weights[2]), [0.0, 1.0])
    assert float(fit_ll[2]) == float(fit_ll[1]) and float(test_ll[2].sum()) == float(test_ll[1].sum())
    _, near_corner = reference_fit(model, tables, [0.02, 0.98], fit)  # an interior point next to the corner
    assert near_corner < float(fit_ll[1]) - 1
