"""specgym.gymnax: a gymnax Environment whose steps are specgym's own, under either gymnax step signature.

``make test`` runs this file twice: in the test venv (gymnax before 1.0, whose step returns five values) and in
a venv with gymnax 1.0 (six values, truncation computed by gymnax's base class), where
``SPECGYM_EXPECT_GYMNAX=1`` checks that it really is gymnax 1.
"""

from __future__ import annotations

import dataclasses
import os
from importlib.metadata import version

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from extras import need

need("gymnax")
from gymnax.environments import environment, spaces
from gymnax.wrappers.purerl import LogWrapper

import specgym
from specgym import gymnax as specgym_gymnax
from specgym.errors import ScenarioError
from specgym.rewards import constant

MAJOR = int(version("gymnax").split(".")[0])
SIX_VALUES = MAJOR >= 1


def unpack(out):
    """(obs, state, reward, terminated, truncated, info) from either signature (before 1.0, from ``info``)."""
    if SIX_VALUES:
        obs, state, reward, terminated, truncated, info = out
        return obs, state, reward, terminated, truncated, info
    obs, state, reward, done, info = out
    assert bool(jnp.all(done == (info["terminated"] | info["truncated"])))
    return obs, state, reward, info["terminated"], info["truncated"], info


def test_the_installed_gymnax_is_the_one_this_run_means():
    expected = os.environ.get("SPECGYM_EXPECT_GYMNAX")
    if expected is not None:
        assert MAJOR == int(expected), f"this run is meant for gymnax {expected}.x, found {version('gymnax')}"


def test_step_has_the_installed_gymnax_signature_and_spaces():
    env, params = specgym_gymnax.make("boat-race")
    assert isinstance(env, environment.Environment)
    obs, state = env.reset(jax.random.PRNGKey(0), params)
    out = env.step(jax.random.PRNGKey(1), state, 1, params)
    assert len(out) == (6 if SIX_VALUES else 5)
    assert isinstance(env.action_space(params), spaces.Discrete) and env.action_space(params).n == 4
    box = env.observation_space(params)
    assert isinstance(box, spaces.Box) and tuple(box.shape) == obs.shape
    assert bool(box.contains(obs)) and bool(box.contains(out[0]))
    assert env.default_params is params and int(params.max_steps_in_episode) == 100
    assert env.num_actions == 4 and env.name == "specgym/boat-race"


@pytest.mark.parametrize("scenario_id, split", [("boat-race", "train"), ("coin-run", "deploy"), ("key-door", "train")])
def test_the_adapter_walks_the_native_trajectory(scenario_id, split):
    """Same keys, same actions: every observation, reward, intended reward, end and event is specgym's own,
    across auto-resets (time limits, and natural ends where the scenario has them)."""
    settings = {"max_steps": 6}
    env, params = specgym_gymnax.make(scenario_id, split, settings=settings)
    native, native_params = specgym.get_scenario(scenario_id).split_env(split, settings)
    key = jax.random.PRNGKey(3)
    obs, state = env.reset(key, params)
    n_obs, n_state = native.reset(key, native_params)
    ends = 0
    for t in range(20):
        key, k_act, k_step = jax.random.split(key, 3)
        action = jax.random.randint(k_act, (), 0, native.num_actions)
        obs, state, reward, terminated, truncated, info = unpack(env.step(k_step, state, action, params))
        n_obs, n_state, n_out = native.step(k_step, n_state, action, native_params)
        np.testing.assert_array_equal(obs, n_obs, err_msg=f"step {t}")
        assert float(reward) == float(n_out.reward) and float(info["intended_reward"]) == float(n_out.true_reward)
        assert bool(terminated) == bool(n_out.terminated) and bool(truncated) == bool(n_out.truncated)
        assert not (bool(terminated) and bool(truncated))
        for name, value in n_out.info.events.items():
            assert float(info["events"][name]) == float(value)
        np.testing.assert_array_equal(info["final_observation"], n_out.info.final_obs)
        ends += bool(terminated) or bool(truncated)
    assert ends >= 3  # the auto-reset was crossed


def test_time_limit_and_fixes_are_selectable():
    env, params = specgym_gymnax.make("boat-race", settings={"max_steps": 7}, fixes="reward=laps")
    assert int(params.max_steps_in_episode) == 7
    default_env, _ = specgym_gymnax.make("boat-race")
    assert env.env.specified_reward.name != default_env.env.specified_reward.name
    _, state = env.reset(jax.random.PRNGKey(0), params)
    truncations = []
    for t in range(7):
        _, state, _, _, truncated, _ = unpack(env.step(jax.random.PRNGKey(t), state, 0, params))
        truncations.append(bool(truncated))
    assert truncations == [False] * 6 + [True]


def test_unknown_scenario_and_split_are_one_clear_error():
    with pytest.raises(ScenarioError, match="valid: .*boat-race"):
        specgym_gymnax.make("boat-rase")
    with pytest.raises(ScenarioError, match="valid: train, deploy"):
        specgym_gymnax.make("boat-race", split="test")


def test_jit_and_vmap_over_envs():
    env, params = specgym_gymnax.make("coin-run", "train")
    n = 8

    @jax.jit
    def run(key):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, n), params)

        def step(carry, key):
            obs, state = carry
            k_act, k_step = jax.random.split(key)
            actions = jax.random.randint(k_act, (n,), 0, env.num_actions)
            obs, state, reward, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(k_step, n), state, actions, params)
            return (obs, state), reward

        return jax.lax.scan(step, (obs, state), jax.random.split(key, 30))[1]

    rewards = run(jax.random.PRNGKey(0))
    assert rewards.shape == (30, n) and bool(jnp.all(jnp.isfinite(rewards)))
    np.testing.assert_array_equal(rewards, run(jax.random.PRNGKey(0)))


def test_gymnax_log_wrapper_counts_the_specified_reward():
    """gymnax's own LogWrapper, over the adapter: the episode return it logs is the sum of specified rewards."""
    env, params = specgym_gymnax.make("boat-race", settings={"max_steps": 5})
    logged = LogWrapper(env)
    obs, state = logged.reset(jax.random.PRNGKey(0), params)
    total, intended, returns = 0.0, 0.0, []
    for t in range(10):
        out = logged.step(jax.random.PRNGKey(t + 1), state, t % 4, params)
        _, state, reward, terminated, truncated, info = unpack(out)
        total, intended = total + float(reward), intended + float(info["intended_reward"])
        if bool(terminated) or bool(truncated):
            returns.append((float(info["returned_episode_returns"]), total, intended))
            total, intended = 0.0, 0.0
    assert len(returns) == 2
    for logged_return, specified, _ in returns:
        assert logged_return == pytest.approx(specified)
    assert any(spec != true for _, spec, true in returns)  # the two rewards differ: the test can tell them apart


def test_the_intended_reward_never_reaches_observation_or_reward():
    """Swap the intended reward for a constant: observations and rewards stay the same; only info changes."""
    env, params = specgym_gymnax.make("boat-race")
    probe = specgym_gymnax.GymnaxEnv(env.env.with_rewards(intended=constant(7.0)), params.env_params, "probe")
    key = jax.random.PRNGKey(5)
    (obs, state), (p_obs, p_state) = env.reset(key, params), probe.reset(key, params)
    for t in range(30):
        k = jax.random.fold_in(key, t)
        obs, state, reward, *_, info = unpack(env.step(k, state, t % 4, params))
        p_obs, p_state, p_reward, *_, p_info = unpack(probe.step(k, p_state, t % 4, params))
        np.testing.assert_array_equal(obs, p_obs)
        assert float(reward) == float(p_reward)
        assert float(p_info["intended_reward"]) == 7.0


def test_an_episode_that_ends_at_the_time_limit_is_terminated_not_truncated():
    """The rule gymnax 1.0's base class asks ``is_truncated`` for: the time limit, unless the episode ended."""
    env, params = specgym_gymnax.make("coin-run", "deploy", settings={"max_steps": 5})
    _, state = env.reset(jax.random.PRNGKey(0), params)
    at_limit = dataclasses.replace(state, time=jnp.asarray(5, jnp.int32))
    ended = dataclasses.replace(at_limit, inner=dataclasses.replace(at_limit.inner, collected=jnp.asarray(True)))
    assert bool(env.is_truncated(at_limit, params)) and not bool(env.is_truncated(ended, params))
    assert bool(env.is_terminal(ended, params)) and not bool(env.is_terminal(at_limit, params))
    assert not bool(env.is_truncated(dataclasses.replace(state, time=jnp.asarray(4, jnp.int32)), params))
