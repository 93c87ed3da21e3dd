"""The env benchmark's harness and the reference grid it divides by (speed is never asserted: bench/README.md)."""

import jax
import jax.numpy as jnp
import pytest
from bench import reference_grid

from specgym.benchmark import FEATURES, Subject, compiled_rollout, env_table, env_throughput, registered, view_cost


def test_harness_times_an_env_beside_the_reference_on_a_tiny_batch():
    rows = [env_throughput(registered(env), batch=2, steps=3, repeats=1, reference=reference_grid.SUBJECT,
                           upper_bound=True) for env in ("boat-race", "glitch-walker")]
    for row in rows:
        for field in ("steps_per_second", "reference_steps_per_second", "ratio_to_reference",
                      "obs_sum_steps_per_second"):
            assert row[field] > 0, field
    table = env_table(rows, (2,))
    assert any(line.startswith("| boat-race | ") and "x)" in line for line in table)
    assert any(line.startswith("| reference grid") for line in table)


def test_a_view_is_timed_against_the_flat_board_network_of_the_same_scenario():
    row = view_cost("nail-factory", seeds=1, updates=1, repeats=2)
    assert row["view"] == "options"
    assert [len(rates) for rates in row["repeats"].values()] == [2, 2]
    assert row["ratio_to_board"] == pytest.approx(row["steps_per_second"] / row["board_steps_per_second"])


def test_observations_are_read_through_the_projection_not_summed():
    """A constant observation of ones: the learner path adds ones @ W, the upper-bound path the plain sum."""
    batch, steps, size = 3, 4, 5
    ones = Subject("ones", 2, lambda key: (jnp.ones(size), jnp.int32(0)),
                   lambda key, state, action: (jnp.ones(size), state, jnp.float32(0)))
    w = jax.random.normal(jax.random.PRNGKey(0), (size, FEATURES))  # the harness's own fixed matrix
    assert float(compiled_rollout(ones, batch, steps)(jax.random.PRNGKey(1))) == pytest.approx(
        steps * batch * float(w.sum()), rel=1e-5)
    assert float(compiled_rollout(ones, batch, steps, learner=False)(jax.random.PRNGKey(1))) == steps * batch * size


def test_reference_grid_reaches_the_goal_and_resets():
    g = reference_grid
    obs, state = g.reset(jax.random.PRNGKey(0))
    assert obs.shape == (2 * g.SIZE * g.SIZE,) and float(obs.sum()) == 2
    assert obs[0] == 1 and obs[2 * g.SIZE * g.SIZE - 1] == 1  # agent top left, goal bottom right
    right, down, up = 1, 2, 0
    obs, state, reward = g.step(jax.random.PRNGKey(1), state, up)  # into the wall: stays
    assert state.agent.tolist() == [0, 0] and float(reward) == 0
    for action in [right] * (g.SIZE - 1) + [down] * (g.SIZE - 2):
        obs, state, reward = g.step(jax.random.PRNGKey(1), state, action)
        assert float(reward) == 0
    assert state.agent.tolist() == [g.SIZE - 2, g.SIZE - 1] and obs[(g.SIZE - 2) * g.SIZE + g.SIZE - 1] == 1
    obs, state, reward = g.step(jax.random.PRNGKey(1), state, down)
    assert float(reward) == 1 and state.agent.tolist() == [0, 0] and int(state.time) == 0  # reset on arrival


def test_reference_grid_truncates_at_its_time_limit():
    g = reference_grid
    _, state = g.reset(jax.random.PRNGKey(0))
    for t in range(g.MAX_STEPS):
        assert int(state.time) == t
        _, state, _ = g.step(jax.random.PRNGKey(0), state, 0)  # up, forever against the wall
    assert int(state.time) == 0


def test_widened_reference_follows_the_agent_and_gives_a_width_ceiling():
    wide = reference_grid.widened(200)
    obs, state = wide.reset(jax.random.PRNGKey(0))
    assert obs.shape == (200,) and float(obs[128:].sum()) == (200 - 128) // 64 + 1  # the agent's cell, repeated
    obs, state, _ = wide.step(jax.random.PRNGKey(1), state, 1)  # right: the extra floats move with the agent
    assert float(obs[128 + 1]) == 1 and float(obs[128]) == 0
    row = env_throughput(registered("reward-grid"), batch=2, steps=3, repeats=1, reference=reference_grid.SUBJECT,
                         widened=reference_grid.widened(200))
    assert row["observation_size"] == 200 and row["width_ceiling"] > 0
