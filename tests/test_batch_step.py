"""Stepping a batch with resets drawn only where an episode ended: the step itself is ``env.step``'s, and every
ended env continues on a fresh level of its own, from the generator's distribution."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs.batch_step import step_batch
from specgym.scenarios import get
from test_procedural import LEVEL_RULES, assert_drawn_like_fixed, level_bytes

BATCH = 64


def procedural(scenario_id):
    setup = get(scenario_id).setup({"procedural": True})  # shard-balance trains on its fixed rooms by default
    env, params = setup.training()
    names = tuple(setup.env.generate_level(jax.random.PRNGKey(0), params.config))  # the level arrays
    return setup, env, params, names


def levels_of(states, names):
    """Each env's level as name -> stacked arrays (one level per env)."""
    return {name: np.asarray(getattr(states.inner.level, name))[:, 0] for name in names}


def test_ended_envs_continue_on_fresh_levels_of_their_own_and_the_others_as_env_step_says():
    _, env, params, names = procedural("cheese-corner")  # deterministic dynamics: any step key gives the same move
    batched = jax.jit(lambda k, s, a: step_batch(env, k, s, a, params, pool=4))
    plain = jax.jit(jax.vmap(lambda k, s, a: env.step(k, s, a, params)))
    _, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(0), BATCH), params)
    # staggered episodes, so that a step ends a few of them (sometimes more than one pool holds)
    states = dataclasses.replace(states, time=jax.random.randint(jax.random.PRNGKey(1), (BATCH,), 0, 40))
    seen = set(level_bytes(levels_of(states, names)))
    resets = 0
    for i in range(60):
        k_act, k_step = jax.random.split(jax.random.PRNGKey(100 + i))
        action = jax.random.randint(k_act, (BATCH,), 0, env.num_actions)
        obs, after, step = batched(k_step, states, action)
        want_obs, want, want_step = plain(jax.random.split(k_step, BATCH), states, action)
        done = np.asarray(step.terminated | step.truncated)
        for got, expected in zip(jax.tree_util.tree_leaves(step), jax.tree_util.tree_leaves(want_step), strict=True):
            np.testing.assert_array_equal(got, expected)  # rewards, episode ends, events, final observations
        for got, expected in zip(jax.tree_util.tree_leaves((obs, after)), jax.tree_util.tree_leaves((want_obs, want)),
                                 strict=True):
            np.testing.assert_array_equal(np.asarray(got)[~done], np.asarray(expected)[~done])
        np.testing.assert_array_equal(obs, jax.vmap(env.observe, in_axes=(0, None))(after.inner, params))
        fresh = level_bytes({name: array[done] for name, array in levels_of(after, names).items()})
        assert len(set(fresh)) == len(fresh)  # no two ended envs share a level
        assert not seen & set(fresh)  # and none continues on a level met before
        seen |= set(fresh)
        level = after.inner.level
        np.testing.assert_array_equal(np.asarray(after.time)[done], 0)
        np.testing.assert_array_equal(np.asarray(after.inner.inner.pos)[done], np.asarray(level.start)[done, 0])
        resets += int(done.sum())
        states = after
    assert resets > 100


@pytest.mark.parametrize("scenario_id", list(LEVEL_RULES))
def test_levels_handed_to_ended_envs_come_from_the_distribution_of_the_fixed_training_set(scenario_id):
    """Every env ends at every step, so each step draws several pools: 256 levels, as in test_procedural."""
    setup, env, params, names = procedural(scenario_id)
    batched = jax.jit(lambda k, s, a: step_batch(env, k, s, a, params, pool=8))
    _, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(0), BATCH), params)
    drawn = []
    for i in range(4):
        last_step = dataclasses.replace(states, time=jnp.full((BATCH,), params.max_steps - 1))
        _, states, step = batched(jax.random.PRNGKey(10 + i), last_step, jnp.zeros((BATCH,), jnp.int32))
        assert bool(jnp.all(step.terminated | step.truncated))
        drawn.append(levels_of(states, names))
    drawn = {name: np.concatenate([levels[name] for levels in drawn]) for name in names}
    fixed = {name: np.asarray(getattr(setup.train_params, name)) for name in names}
    assert_drawn_like_fixed(scenario_id, drawn, fixed)
