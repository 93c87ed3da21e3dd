"""Numerical kernels of the imitation methods against slow, obviously-correct references."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maze_reference import bfs_distances
from specgym.envs.bfs_maze import BfsMaze
from specgym.learn import cirl, goal_inference, maxent_irl
from specgym.learn import reward_distance as rd
from specgym.learn.procedure_cloning import bfs_expand, search


def tiny_chain(n=5):
    """A ring of n states, actions: stay / step forward."""
    return jnp.asarray([[s, (s + 1) % n] for s in range(n)], jnp.int32)


def test_soft_q_matches_python_loop():
    next_state = tiny_chain()
    reward = jax.random.normal(jax.random.PRNGKey(0), next_state.shape)
    v = np.zeros(5)
    for _ in range(150):
        v = np.array([np.log(sum(np.exp(float(reward[s, a]) + 0.9 * v[int(next_state[s, a])]) for a in range(2)))
                      for s in range(5)])
    q_ref = np.array([[float(reward[s, a]) + 0.9 * v[int(next_state[s, a])] for a in range(2)] for s in range(5)])
    np.testing.assert_allclose(maxent_irl.soft_q(next_state, reward, 0.9, 150), q_ref, rtol=1e-4, atol=1e-4)


def test_shaping_leaves_the_demo_likelihood_unchanged_and_epic_zero():
    next_state = tiny_chain()
    key = jax.random.PRNGKey(1)
    theta, phi = jax.random.normal(key, (5,)), jax.random.normal(jax.random.fold_in(key, 1), (5,))
    planted = theta[next_state]
    shaped = planted + 0.9 * phi[next_state] - phi[:, None]
    states, actions = jnp.array([0, 1, 2, 3, 4, 0]), jnp.array([1, 0, 1, 1, 0, 0])
    ll = lambda r: float(maxent_irl.log_likelihood(r, next_state, states, actions, 0.9, 200))
    assert ll(shaped) == pytest.approx(ll(planted), abs=1e-4)
    assert ll(jnp.zeros_like(planted)) == pytest.approx(np.log(0.5))
    states_all = jnp.arange(5)
    base = rd.state_reward(theta, 2)
    assert float(rd.epic_distance(rd.shaped(base, phi, 0.9), base, states_all, 0.9)) < 1e-3
    assert float(rd.epic_distance(3.0 * base, base, states_all, 0.9)) < 1e-3
    assert float(rd.epic_distance(-base, base, states_all, 0.9)) > 0.99
    assert float(rd.expected_value_difference(next_state, planted, shaped, states_all, 0.9)) == pytest.approx(0, abs=1e-4)


def test_canonicalise_matches_python_loop():
    n, a, g = 3, 2, 0.8
    reward = np.asarray(jax.random.normal(jax.random.PRNGKey(2), (n, a, n)))
    mean = lambda x: np.mean([reward[x, u, y] for u in range(a) for y in range(n)])
    total = np.mean([mean(x) for x in range(n)])
    ref = np.array([[[reward[s, u, t] + g * mean(t) - mean(s) - g * total for t in range(n)] for u in range(a)]
                    for s in range(n)])
    np.testing.assert_allclose(rd.canonicalise(jnp.asarray(reward), jnp.arange(n), g), ref, rtol=1e-5, atol=1e-5)


def test_irl_recovers_a_planted_reward_on_a_ring():
    next_state = jnp.asarray([[s, (s + 1) % 6, (s - 1) % 6] for s in range(6)], jnp.int32)
    theta_star = jnp.asarray([0.0, 0.0, 1.0, 0.0, -1.0, 0.0])
    q = maxent_irl.soft_q(next_state, 3 * theta_star[next_state], 0.9, 150)
    # the demonstrator's exact action distribution at every state, as weighted pairs
    probs = np.asarray(jax.nn.softmax(q, axis=1))
    pairs = [(s, a) for s in range(6) for a in range(3) for _ in range(int(round(200 * probs[s, a])))]
    states, actions = jnp.asarray([p[0] for p in pairs]), jnp.asarray([p[1] for p in pairs])
    config = maxent_irl.IRLConfig(train_steps=400, l2=1e-4)
    theta, _ = maxent_irl.fit_reward(config, next_state, states, actions, jnp.ones(6))
    all_states = jnp.arange(6)
    assert float(rd.epic_distance(rd.state_reward(theta, 3), rd.state_reward(theta_star, 3), all_states, 0.9)) < 0.1
    unrelated = jax.random.normal(jax.random.PRNGKey(5), (6,))
    assert float(rd.epic_distance(rd.state_reward(unrelated, 3), rd.state_reward(theta_star, 3), all_states, 0.9)) > 0.3


def test_bfs_trace_matches_python_breadth_first_search():
    walls = np.asarray(BfsMaze().generate_level(jax.random.PRNGKey(3), {})["walls"])
    goal = (1, 1)
    dist = bfs_distances(~walls, goal)
    inner_walls = jnp.asarray(walls[1:-1, 1:-1], jnp.float32)
    goal_map = jnp.zeros((7, 7)).at[0, 0].set(1.0)
    agent = jnp.zeros((7, 7)).at[6, 6].set(1.0)
    before, frames = search(bfs_expand, inner_walls, goal_map, agent, 49)
    for k in range(10):
        np.testing.assert_array_equal(np.asarray(frames[k]) > 0.5, (dist[1:-1, 1:-1] >= 0) & (dist[1:-1, 1:-1] <= k + 1))
    d_agent = dist[7, 7]
    np.testing.assert_array_equal(np.asarray(before) > 0.5, (dist[1:-1, 1:-1] >= 0) & (dist[1:-1, 1:-1] < d_agent))


def test_off_switch_values_against_closed_form_and_monte_carlo():
    for mean, std in itertools.product((-0.5, 0.25, 1.0), (0.1, 0.7, 2.0)):
        act, off, wait = (float(v) for v in cirl.action_values(mean, std))
        assert act == pytest.approx(mean) and off == 0.0
        u = np.random.default_rng(0).normal(mean, std, 400_000)
        assert wait == pytest.approx(float(np.mean(np.maximum(u, 0.0))), abs=5e-3)
        assert wait >= max(act, off) - 1e-6
        noisy = float(cirl.action_values(mean, std, 4.0)[2])
        assert noisy == pytest.approx(float(np.mean(u / (1 + np.exp(-4.0 * u)))), abs=5e-3)


def test_robot_defers_iff_uncertain_enough():
    stds = np.linspace(0.02, 2.0, 50)
    rational = cirl.sweep(0.25, stds)
    assert all(rational["defers"][1:])  # waiting strictly better once the robot is unsure
    erring = cirl.sweep(0.25, stds, 4.0)
    assert erring["choice"][0] == "act" and erring["choice"][-1] == "wait"
    threshold = cirl.deference_threshold(0.25, 4.0, stds)
    assert all(d == (s >= threshold) for s, d in zip(erring["std"], erring["defers"], strict=True))


def test_naive_goal_inference_is_fooled_by_biased_demonstrators():
    result = goal_inference.infer_all(episodes_per_start=10, seed=0)
    assert result["rational"]["naive_pick"] == "prefers B"
    for name in ("myopic", "mistaken"):
        assert result[name]["naive_pick"] == "prefers A"
        assert result[name]["aware_pick"] == "prefers B"


def test_demo_distance_matches_breadth_first_search_loop():
    from specgym.learn.compounding import demo_distance

    rng = np.random.default_rng(4)
    next_state = rng.integers(0, 15, size=(2, 15, 3))
    shown = np.zeros((2, 15), bool)
    shown[0, [0, 7]] = shown[1, 3] = True
    got = demo_distance(next_state, shown, cap=3)
    for lv in range(2):
        for target in range(15):
            best = 3
            for source in np.flatnonzero(shown[lv]):  # plain breadth-first search from each shown state
                frontier, seen, d = {int(source)}, {int(source)}, 0
                while frontier and d < best and target not in frontier:
                    frontier = {int(n) for s in frontier for n in next_state[lv, s]} - seen
                    seen |= frontier
                    d += 1
                if target in frontier or target == source:
                    best = min(best, d)
            assert got[lv, target] == best, (lv, target)


def test_mistakes_excuse_ties_between_equally_good_actions():
    from specgym.learn.compounding import is_mistake

    q = jnp.asarray([[[1.0, 1.0, 0.5, 1.0 - 1e-6]]])  # one level, one state
    wrong = is_mistake(q, jnp.zeros(4, jnp.int32), jnp.zeros(4, jnp.int32), jnp.arange(4))
    assert np.asarray(wrong).tolist() == [False, False, True, False]


@pytest.fixture(scope="module")
def ledge():
    """One windy-ledge env for the module: jitted functions take the env as a static argument."""
    from specgym.envs.registry import make_splits

    env, splits = make_splits("windy-ledge")
    return env, splits["train"]


def test_gusts_push_as_their_exact_expectation_says(ledge):
    from specgym.envs import grid

    env, params = ledge
    params = dataclasses.replace(params, gust=jnp.asarray(0.3, jnp.float32))
    walls = np.asarray(params.walls[0])
    values = jax.random.normal(jax.random.PRNGKey(0), (env.height * env.width,))
    expected = np.asarray(env.chance_expectation(values, 0, params))
    for r, c in [(4, 1), (2, 5), (6, 13), (3, 13)]:  # middle, near the hazards, corners by the wall
        pushed = [tuple(np.asarray(grid.move(jnp.array([r, c]), d, walls))) for d in range(4)]
        value = lambda a, b: float(values[a * env.width + b])
        loop = 0.7 * value(r, c) + 0.3 * np.mean([value(a, b) for a, b in pushed])
        assert expected[r * env.width + c] == pytest.approx(loop, abs=1e-5)
    # the sampled chance step pushes with those frequencies
    from specgym.envs.hidden_hazards import HazardState

    state = HazardState(jnp.array([4, 6]), jnp.asarray(False), jnp.asarray(0))
    after = jax.vmap(lambda k: env.chance(k, state, params).pos)(jax.random.split(jax.random.PRNGKey(1), 20_000))
    moved = np.asarray(after) != np.array([4, 6])
    assert np.mean(moved.any(axis=1)) == pytest.approx(0.3, abs=0.015)
    assert np.mean(np.asarray(after)[:, 0] == 3) == pytest.approx(0.3 / 4, abs=0.01)  # pushed up


def test_bc_and_dagger_buy_the_same_labels_the_same_way(ledge):
    from specgym.learn import bc, dagger
    from specgym.learn.demos import expert_q_values

    env, params = ledge
    config = dagger.DAggerConfig(label_budget=24, rounds=3, episodes_per_round=8)
    quick = bc.BCConfig(train_steps=3)
    runs = {acts: dagger.dagger(env, params, jax.random.PRNGKey(0), 2, dataclasses.replace(config, learner_acts=acts),
                                quick) for acts in (True, False)}
    q = np.asarray(expert_q_values(env, params))
    for _, data in runs.values():
        assert data.complete and data.filled.tolist() == [24, 24]
        assert [int(np.sum(data.rounds[0] == r)) for r in range(3)] == [8, 8, 8]
        # every label is the expert's action in the labelled state
        best = q[data.levels, data.cells].max(axis=-1)
        np.testing.assert_allclose(q[data.levels, data.cells, data.actions], best, atol=1e-5)
    dag, clone = runs[True][1], runs[False][1]
    first = dag.rounds[0] == 0
    np.testing.assert_array_equal(dag.cells[:, first], clone.cells[:, first])  # round 0: the same expert data
    assert not np.array_equal(dag.obs[0], dag.obs[1])  # seeds draw their own demonstrations


def test_ctrl_c_between_dagger_rounds_keeps_the_last_policy(ledge):
    from specgym.learn import bc, dagger

    env, params = ledge

    def stop_after_two(done):
        if done == 2:
            raise KeyboardInterrupt

    config = dagger.DAggerConfig(label_budget=24, rounds=3, episodes_per_round=8)  # as above: compiled once
    nets, data = dagger.dagger(env, params, jax.random.PRNGKey(0), 2, config, bc.BCConfig(train_steps=3),
                               progress=stop_after_two)
    assert not data.complete and data.filled.tolist() == [16, 16]
    assert jax.tree_util.tree_leaves(nets)[0].shape[0] == 2
    with pytest.raises(KeyboardInterrupt):  # nothing trained yet: the interrupt goes through
        dagger.dagger(env, params, jax.random.PRNGKey(0), 2, dataclasses.replace(config, learner_acts=False),
                      bc.BCConfig(train_steps=3), progress=stop_after_two)


def test_distinct_rows_with_counts_give_the_all_rows_losses():
    import optax

    from specgym.learn import bc
    from specgym.learn.procedure_cloning import unique_rows
    from specgym.rl.networks import apply_mlp, init_mlp

    rng = np.random.default_rng(5)
    obs = rng.integers(0, 2, size=(300, 6)).astype(np.float32)  # 64 possible rows: many repeats
    actions = (obs[:, 0] + 2 * rng.integers(0, 2, size=300)).astype(np.int32)
    rows, acts, counts = bc.distinct_pairs(obs, actions)
    assert len(counts) == 128 and counts.sum() == 300 and len(rows) == len(acts)
    net = bc.init_policy(bc.BCConfig(hidden=(8,)), jax.random.PRNGKey(0), 6, 4)
    every = float(bc.cross_entropy(net, jnp.asarray(obs), jnp.asarray(actions), jnp.ones(300)))
    weighted = float(bc.cross_entropy(net, jnp.asarray(rows), jnp.asarray(acts), jnp.asarray(counts)))
    assert weighted == pytest.approx(every, rel=1e-5)
    targets = rng.integers(0, 2, size=300).astype(np.float32)
    inputs, row_targets, row_counts = unique_rows(obs, targets)
    step = init_mlp(jax.random.PRNGKey(1), [6, 8, 1], 1.0)

    def loss(x, t, w):
        return float(jnp.sum(w * optax.sigmoid_binary_cross_entropy(apply_mlp(step, x)[:, 0], t)) / jnp.sum(w))

    assert loss(inputs, row_targets, row_counts) == pytest.approx(loss(obs, targets, np.ones(300)), rel=1e-5)
