"""The contract every registered env must honour (DESIGN.md, 'Core contracts')."""

import functools
import typing

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.base import Env, EnvParams, StepInfo
from specgym.envs.capabilities import Enumerable
from specgym.envs.tabular import to_tabular

NUM_ENVS = 16


def rollout_steps(params) -> int:
    """Long enough for every env to end (and auto-reset) at least once by its time limit."""
    return 2 * int(params.max_steps) + 3


@functools.cache
def compiled_rollout(env, steps: int):
    """One compiled random-action rollout per env and length, shared by every test below.

    Train and deploy params are arguments, so both splits (and every key) reuse it.
    """

    def rollout(params, key):
        k_reset, k_run = jax.random.split(key)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, NUM_ENVS), params)

        def body(carry, k):
            obs, state = carry
            k_act, k_step = jax.random.split(k)
            action = jax.random.randint(k_act, (NUM_ENVS,), 0, env.num_actions)
            keys = jax.random.split(k_step, NUM_ENVS)
            obs2, state2, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, action, params)
            return (obs2, state2), (state, action, keys, obs2, state2, out)

        _, trace = jax.lax.scan(body, (obs, state), jax.random.split(k_run, steps))
        return trace

    return jax.jit(rollout)


def random_rollout(env, params, key):
    """States, actions, keys and step outputs of a batch of random-action rollouts."""
    return compiled_rollout(env, rollout_steps(params))(params, key)


def test_spaces_and_finite_values(env_and_splits, key):
    name, env, splits = env_and_splits
    for params in splits.values():
        obs, state = env.reset(key, params)
        space = env.observation_space(params)
        assert obs.shape == space.shape
        assert bool(space.contains(obs))
        assert bool(env.action_space(params).contains(env.action_space(params).sample(key)))
        _, _, _, obs2, _, out = random_rollout(env, params, key)
        assert bool(jnp.all(jnp.isfinite(obs2)))
        assert bool(jnp.all(jax.vmap(jax.vmap(space.contains))(obs2)))
        assert bool(jnp.all(jnp.isfinite(out.reward))) and bool(jnp.all(jnp.isfinite(out.true_reward)))


def declared_types(env) -> tuple[type, type]:
    """(state type, params type) the env's class binds ``Env``'s type parameters to."""
    for cls in type(env).__mro__:
        for base in getattr(cls, "__orig_bases__", ()):
            origin, args = typing.get_origin(base), typing.get_args(base)
            if isinstance(origin, type) and issubclass(origin, Env) and args and all(isinstance(a, type) for a in args):
                return args
    raise AssertionError(f"{type(env).__name__} does not bind Env's state and params types")


def test_params_state_and_info_have_the_declared_types(env_and_splits, key):
    name, env, splits = env_and_splits
    state_type, params_type = declared_types(env)
    for params in splits.values():
        assert isinstance(params, EnvParams) and isinstance(params, params_type)
        horizon = env.horizon(params)
        assert type(horizon) is int and horizon == int(params.max_steps) > 0
        _, state = env.reset(key, params)
        assert isinstance(state.inner, state_type)
        _, _, out = env.step(key, state, jnp.asarray(0), params)
        assert isinstance(out.info, StepInfo) and isinstance(out.info.events, dict)
        assert int(out.info.level) == int(env.level_of(state.inner))


def test_same_key_same_rollout(env_and_splits, key):
    name, env, splits = env_and_splits
    a = random_rollout(env, splits["train"], key)
    b = random_rollout(env, splits["train"], key)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    c = random_rollout(env, splits["train"], jax.random.PRNGKey(1))
    assert not np.array_equal(np.asarray(a[1]), np.asarray(c[1]))


def test_one_compiled_step_serves_train_and_deploy(env_and_splits, key):
    name, env, splits = env_and_splits
    traces = []

    def step(key, state, action, params):
        traces.append(1)
        return env.step(key, state, action, params)

    jitted = jax.jit(step)
    for params in (splits["train"], splits["deploy"]):
        _, state = env.reset(key, params)
        jax.block_until_ready(jitted(key, state, jnp.asarray(0), params))
    assert len(traces) == 1, "train and deploy params must share one compiled step"


def test_terminated_truncated_and_auto_reset(env_and_splits, key):
    name, env, splits = env_and_splits
    params = splits["train"]
    max_steps = int(params.max_steps)
    state, action, keys, obs2, state2, out = random_rollout(env, params, key)
    terminated, truncated = np.asarray(out.terminated), np.asarray(out.truncated)
    assert not np.any(terminated & truncated)
    time_before = np.asarray(state.time)
    # truncation happens exactly when the time limit is reached without a natural end
    np.testing.assert_array_equal(truncated, (time_before + 1 >= max_steps) & ~terminated)
    done = terminated | truncated
    assert done.any()
    # after any end the next state is a fresh episode
    assert np.all(np.asarray(state2.time)[done] == 0)
    assert np.all(np.asarray(state2.time)[~done] == time_before[~done] + 1)
    # the final observation is that of the state before the reset
    final = np.asarray(out.info.final_obs)
    np.testing.assert_array_equal(final[~done], np.asarray(obs2)[~done])


@functools.cache
def compiled_replay(env):
    """Replays sampled steps through ``transition`` and the tabular encoding, compiled once per env."""

    def replay(state, action, keys, params):
        flat = lambda x: x.reshape((-1,) + x.shape[2:])
        inner = jax.tree_util.tree_map(flat, state.inner)
        action, keys = flat(action), flat(keys)
        k_chance = jax.vmap(lambda k: jax.random.split(k)[0])(keys)
        tr = jax.vmap(env.transition, in_axes=(0, 0, 0, None))(k_chance, inner, action, params)
        level = jax.vmap(env.level_of)(tr.state)
        before = jax.vmap(lambda s: env.encode(s, params))(tr.state)
        after = jax.vmap(lambda s: env.encode(s, params))(tr.next_state)
        round_trip = jax.vmap(lambda i, l: env.encode(env.decode(i, l, params), params))(before, level)
        return action, level, before, after, tr.terminated, round_trip

    return jax.jit(replay)


def test_tabular_model_agrees_with_step(env_and_splits, key):
    """Sampled transitions of ``step`` match the exact model, rewards included."""
    name, env, splits = env_and_splits
    assert isinstance(env, Enumerable)
    for params in splits.values():
        mdp = to_tabular(env, params)
        assert mdp.horizon == env.horizon(params)
        spec, true = mdp.rewards(env.specified_reward), mdp.rewards(env.intended_reward)
        state, action, keys, _, _, out = random_rollout(env, params, key)
        a, level, before, after, terminated, round_trip = (
            np.asarray(x) for x in compiled_replay(env)(state, action, keys, params))
        np.testing.assert_array_equal(np.asarray(mdp.next_state)[level, before, a], after)
        np.testing.assert_array_equal(np.asarray(mdp.terminated)[level, before, a], terminated)
        np.testing.assert_allclose(np.asarray(spec)[level, before, a], np.asarray(out.reward).reshape(-1), atol=1e-6)
        np.testing.assert_allclose(np.asarray(true)[level, before, a], np.asarray(out.true_reward).reshape(-1), atol=1e-6)
        # decode is the inverse of encode on visited states
        np.testing.assert_array_equal(round_trip, before)
