"""The first-episode rollout every score is read from, against a plain Python loop over ``reset`` and ``step``.

The reference keeps one env per episode in a list and steps each with its own
call, so the vectorised loop's bookkeeping (which steps belong to the first
episode, what is summed, what each hook sees) is checked against code with no
vmap, no scan and no masks. Keys follow the documented scheme: the rollout key
splits into (reset, run); each step's key into (act, env, record), the env key
into one key per episode.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs.registry import make_splits
from specgym.evaluation import evaluate_split
from specgym.learn.demos import expert_q_values, tabular_act
from specgym.references import split_references
from specgym.report.heatmap import visitation_counts
from specgym.rl.networks import init_actor_critic
from specgym.rollout import (
    first_episode_totals,
    labelled_by,
    mlp_act,
    per_episode,
    returns_and_events,
    rollout,
    step_trace,
)

EPISODES = 6


def reference_loop(env, params, act, policy, key, episodes: int, horizon: int, label=None, label_policy=None):
    """Per step, a list of per-episode dicts of what happened, and each episode's first-episode sums."""
    step = jax.jit(env.step)
    k_reset, k_run = jax.random.split(key)
    pairs = [env.reset(k, params) for k in jax.random.split(k_reset, episodes)]
    obs, states = [p[0] for p in pairs], [p[1] for p in pairs]
    ended = [False] * episodes
    sums = [{} for _ in range(episodes)]
    steps = []
    for key_t in jax.random.split(k_run, horizon):
        k_act, k_env, k_record = jax.random.split(key_t, 3)
        batch_obs = jnp.stack(obs)
        batch_state = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *states)
        actions = np.asarray(act(policy, batch_obs, batch_state, k_act))
        labels = None if label is None else np.asarray(label(label_policy, batch_obs, batch_state, k_record))
        rows = []
        for e, k_e in enumerate(jax.random.split(k_env, episodes)):
            next_obs, next_state, out = step(k_e, states[e], jnp.asarray(actions[e]), params)
            row = {"obs": np.asarray(obs[e]), "action": int(actions[e]), "alive": not ended[e],
                   "time": int(states[e].time), "level": int(env.level_of(states[e].inner)),
                   "cell": int(env.encode(states[e].inner, params)),
                   "specified": float(out.reward), "intended": float(out.true_reward),
                   "events": {k: float(v) for k, v in out.info.events.items()},
                   "ends": bool(out.terminated), "truncated": bool(out.truncated), "inner": states[e].inner}
            if labels is not None:
                row["label_action"] = int(labels[e])
            if not ended[e]:
                for name, value in [("specified", row["specified"]), ("intended", row["intended"]),
                                    *row["events"].items()]:
                    sums[e][name] = sums[e].get(name, 0.0) + value
            ended[e] = ended[e] or row["ends"] or row["truncated"]
            obs[e], states[e] = next_obs, next_state
            rows.append(row)
        steps.append(rows)
    return steps, sums


@pytest.fixture(scope="module")
def maze_expert():
    """bfs-maze with the exact expert: episodes end at the goal, at different steps (termination)."""
    env, splits = make_splits("bfs-maze", num_levels=4, max_steps=12)
    params = splits["train"]
    return env, params, per_episode(tabular_act(env)), (expert_q_values(env, params), params)


@pytest.fixture(scope="module")
def track_random():
    """boat-race with untrained networks: no episode ends before the time limit (truncation)."""
    env, splits = make_splits("boat-race", max_steps=8)
    params = splits["train"]
    nets = jax.vmap(lambda k: init_actor_critic(k, env.observation_space(params).shape[0], env.num_actions, (8,)))(
        jax.random.split(jax.random.PRNGKey(5), 2))
    return env, params, mlp_act, jax.tree_util.tree_map(lambda x: x[0], nets), nets


def beyond_the_limit(params) -> int:
    """A rollout long enough that every env ends its first episode and is auto-reset at least once."""
    return 2 * int(params.max_steps) + 3


def check_trace(env, trace, steps):
    trace = jax.device_get(trace)
    for t, rows in enumerate(steps):
        for e, row in enumerate(rows):
            for name in ("action", "alive", "time", "level", "cell"):
                assert trace[name][t, e] == row[name], (name, t, e)
            np.testing.assert_array_equal(trace["obs"][t, e], row["obs"])
            assert trace["specified"][t, e] == pytest.approx(row["specified"])
            assert trace["intended"][t, e] == pytest.approx(row["intended"])
            for name, value in row["events"].items():
                assert trace["events"][name][t, e] == pytest.approx(value), (name, t, e)


@pytest.mark.parametrize("case", ["maze_expert", "track_random"])
def test_the_trace_is_the_python_loop_step_for_step(case, request):
    env, params, act, policy, *_ = request.getfixturevalue(case)
    key, horizon = jax.random.PRNGKey(3), beyond_the_limit(params)
    steps, _ = reference_loop(env, params, act, policy, key, EPISODES, horizon)
    check_trace(env, rollout(env, params, act, policy, key, EPISODES, horizon, step_trace), steps)


def test_alive_ends_with_the_step_that_terminates(maze_expert):
    env, params, act, policy = maze_expert
    key, horizon = jax.random.PRNGKey(4), beyond_the_limit(params)
    steps, _ = reference_loop(env, params, act, policy, key, EPISODES, horizon)
    alive = np.asarray(rollout(env, params, act, policy, key, EPISODES, horizon, step_trace)["alive"])
    ends = np.array([[row["ends"] for row in rows] for rows in steps])
    first_end = ends.argmax(axis=0)
    assert ends.any(axis=0).all() and (first_end < int(params.max_steps) - 1).all()  # every episode ends early
    assert len(set(first_end.tolist())) > 1  # ...and not all at once, or a shifted mask would pass
    for e in range(EPISODES):
        np.testing.assert_array_equal(alive[:, e], np.arange(horizon) <= first_end[e])


def test_alive_ends_with_the_step_that_truncates(track_random):
    env, params, act, net, _ = track_random
    key, horizon = jax.random.PRNGKey(4), beyond_the_limit(params)
    steps, _ = reference_loop(env, params, act, net, key, EPISODES, horizon)
    truncated = np.array([[row["truncated"] for row in rows] for rows in steps])
    limit = int(params.max_steps)
    assert truncated[limit - 1].all() and not truncated[: limit - 1].any()
    alive = np.asarray(rollout(env, params, act, net, key, EPISODES, horizon, step_trace)["alive"])
    np.testing.assert_array_equal(alive, np.broadcast_to((np.arange(horizon) < limit)[:, None], alive.shape))


@pytest.mark.parametrize("case", ["maze_expert", "track_random"])
def test_first_episode_totals_are_the_python_loop_sums(case, request):
    env, params, act, policy, *_ = request.getfixturevalue(case)
    key = jax.random.PRNGKey(6)
    _, sums = reference_loop(env, params, act, policy, key, EPISODES, beyond_the_limit(params))
    for horizon in (env.horizon(params), beyond_the_limit(params)):  # steps after the first end never count
        totals = jax.device_get(first_episode_totals(env, params, act, policy, key, EPISODES, horizon,
                                                     returns_and_events))
        assert set(totals) == set(sums[0])
        for name in totals:
            np.testing.assert_allclose(totals[name], [s[name] for s in sums], rtol=1e-5, atol=1e-5, err_msg=name)
    assert any(s["specified"] != 0 for s in sums)  # the sums are not trivially zero


def test_totals_are_the_masked_sum_of_the_trace(maze_expert):
    env, params, act, policy = maze_expert
    key, horizon = jax.random.PRNGKey(7), beyond_the_limit(params)
    trace = rollout(env, params, act, policy, key, EPISODES, horizon, step_trace)
    totals = first_episode_totals(env, params, act, policy, key, EPISODES, horizon, returns_and_events)
    live = np.asarray(trace["alive"], np.float32)
    np.testing.assert_allclose(totals["intended"], (live * np.asarray(trace["intended"])).sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(totals["goal"], (live * np.asarray(trace["events"]["goal"])).sum(axis=0))


def test_evaluate_split_averages_the_python_loop_sums_per_seed(track_random):
    env, params, _, _, nets = track_random
    key = jax.random.PRNGKey(8)
    result = evaluate_split(env, params, nets, key, split_references(env, params), EPISODES)
    for seed, k in enumerate(jax.random.split(key, 2)):
        net = jax.tree_util.tree_map(lambda x, s=seed: x[s], nets)
        _, sums = reference_loop(env, params, mlp_act, net, k, EPISODES, env.horizon(params))
        for which in ("specified", "intended"):
            expected = np.mean([s[which] for s in sums])
            assert result[f"{which}_return"]["per_seed"][seed] == pytest.approx(expected, abs=1e-5)
        expected_laps = np.mean([s["laps"] > 0 for s in sums])
        assert result["events"]["laps"]["episode_rate"]["per_seed"][seed] == pytest.approx(expected_laps)


def test_heatmap_counts_the_positions_of_first_episode_steps(track_random):
    env, params, _, _, nets = track_random
    key = jax.random.PRNGKey(14)
    counts = visitation_counts(env, params, nets, key, EPISODES)
    expected = np.zeros_like(counts)
    for seed, k in enumerate(jax.random.split(key, 2)):
        net = jax.tree_util.tree_map(lambda x, s=seed: x[s], nets)
        steps, _ = reference_loop(env, params, mlp_act, net, k, EPISODES, env.horizon(params))
        for row in (row for rows in steps for row in rows if row["alive"]):
            expected[tuple(np.asarray(row["inner"].pos))] += 1
    assert expected.sum() == 2 * EPISODES * env.horizon(params)
    np.testing.assert_array_equal(counts, expected)


def test_labels_are_asked_in_the_visited_states_and_never_taken(maze_expert):
    env, params, expert, table = maze_expert
    nets = jax.vmap(lambda k: init_actor_critic(k, env.observation_space(params).shape[0], env.num_actions, (8,)))(
        jax.random.split(jax.random.PRNGKey(9), 1))
    net = jax.tree_util.tree_map(lambda x: x[0], nets)
    learner, key, horizon = per_episode(mlp_act), jax.random.PRNGKey(10), beyond_the_limit(params)
    trace = jax.device_get(rollout(env, params, learner, net, key, EPISODES, horizon, labelled_by(expert), table))
    steps, _ = reference_loop(env, params, learner, net, key, EPISODES, horizon, expert, table)
    check_trace(env, trace, steps)  # the learner acted, exactly as without labels
    labels = np.array([[row["label_action"] for row in rows] for rows in steps])
    np.testing.assert_array_equal(trace["label_action"], labels)
    q = np.asarray(table[0])
    best = q[trace["level"], trace["cell"]].argmax(axis=-1)  # the greedy expert's choice in each visited state
    np.testing.assert_array_equal(trace["label_action"], best)
    assert (trace["label_action"] != trace["action"]).any()


def test_env_keys_replay_the_step_transition():
    """A hook re-running the transition from ``view.env_keys`` sees the very step ``step`` made (here with wind)."""
    env, splits = make_splits("windy-ledge")
    params = splits["train"]
    nets = jax.vmap(lambda k: init_actor_critic(k, env.observation_space(params).shape[0], env.num_actions, (8,)))(
        jax.random.split(jax.random.PRNGKey(11), 1))
    net = jax.tree_util.tree_map(lambda x: x[0], nets)

    def replayed(view, _):
        def observed_after(transition):
            tr = jax.vmap(transition)(view.env_keys, view.state, view.action)
            return jax.vmap(env.observe, in_axes=(0, None))(tr.next_state, params)

        replay = observed_after(lambda k, s, a: env.step_transition(k, s, a, params))
        other_key = observed_after(lambda k, s, a: env.transition(k, s.inner, a, params))
        return replay, other_key, view.step.info.final_obs

    replay, other_key, final = (np.asarray(x) for x in rollout(
        env, params, mlp_act, net, jax.random.PRNGKey(12), 32, env.horizon(params), replayed))
    np.testing.assert_array_equal(replay, final)
    assert (other_key != final).any()  # the wind matters, so a wrong key would have been caught


def test_per_episode_gives_each_episode_its_own_key():
    def one(policy, obs, state, key):
        return jax.random.randint(key, (), 0, 1000) + policy

    lifted = per_episode(one)
    assert per_episode(one) == lifted and hash(per_episode(one)) == hash(lifted)  # the loop compiles once for it
    key = jax.random.PRNGKey(13)
    got = np.asarray(lifted(7, jnp.zeros((5, 3)), None, key))
    expected = [int(one(7, None, None, k)) for k in jax.random.split(key, 5)]
    np.testing.assert_array_equal(got, expected)
    assert len(set(got.tolist())) > 1
