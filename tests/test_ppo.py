"""PPO pieces against slow references, and PPO learning a trivial env."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs.base import Env, pytree_dataclass
from specgym.envs.spaces import Box
from specgym.rewards import event
from specgym.rl.ppo import PPOConfig, gae, make_train


def gae_reference(reward, value, next_value, terminated, done, gamma, lam):
    """The textbook backward loop, one environment at a time."""
    T, N = reward.shape
    adv = np.zeros((T, N))
    for n in range(N):
        running = 0.0
        for t in reversed(range(T)):
            delta = reward[t, n] + gamma * (1 - terminated[t, n]) * next_value[t, n] - value[t, n]
            running = delta + gamma * lam * (1 - done[t, n]) * running
            adv[t, n] = running
    return adv


def test_gae_matches_python_loop():
    rng = np.random.default_rng(0)
    T, N = 37, 5
    reward, value, next_value = (rng.normal(size=(T, N)) for _ in range(3))
    terminated = (rng.random((T, N)) < 0.1).astype(np.float32)
    truncated = ((rng.random((T, N)) < 0.1) & (terminated == 0)).astype(np.float32)
    done = np.maximum(terminated, truncated)
    adv, targets = gae(*(jnp.asarray(x, jnp.float32) for x in (reward, value, next_value, terminated, done)), 0.97, 0.9)
    expected = gae_reference(reward, value, next_value, terminated, done, 0.97, 0.9)
    np.testing.assert_allclose(np.asarray(adv), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(targets), expected + value, rtol=1e-4, atol=1e-4)


@pytree_dataclass
class _Params:
    max_steps: jax.Array


class TwoArmedChoice(Env):
    """One step per episode: action 1 pays 1, action 0 pays 0; observation is constant."""

    num_actions = 2

    def reset_env(self, key, params):
        return jnp.asarray(0)

    def dynamics(self, state, action, params):
        return state, {"good": (action == 1).astype(jnp.float32)}

    def is_terminal(self, state, params):
        return jnp.asarray(True)

    def observe(self, state, params):
        return jnp.ones(3)

    def observation_space(self, params):
        return Box(0.0, 1.0, (3,))


def test_ppo_learns_a_trivial_env_on_every_seed():
    env = TwoArmedChoice(event("good"), event("good"))
    config = PPOConfig(total_steps=8 * 16 * 20, num_envs=8, num_steps=16, lr=3e-3, hidden=(16,))
    train = jax.jit(jax.vmap(make_train(config, env, _Params(jnp.asarray(10)))))
    _, metrics = train(jax.random.split(jax.random.PRNGKey(0), 4))
    final = np.asarray(metrics["specified_return"])[:, -3:].mean(axis=1)
    first = np.asarray(metrics["specified_return"])[:, 0]
    assert np.all(final > 0.9), final
    assert np.all(first < 0.75), first


def test_make_train_is_deterministic():
    env = TwoArmedChoice(event("good"), event("good"))
    config = PPOConfig(total_steps=8 * 16 * 3, num_envs=8, num_steps=16, hidden=(8,))
    train = jax.jit(make_train(config, env, _Params(jnp.asarray(10))))
    a = train(jax.random.PRNGKey(3))[1]["loss"]
    b = train(jax.random.PRNGKey(3))[1]["loss"]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_network_init_vmapped_over_seeds_needs_no_lapack():
    """Batched QR (orthogonal init under vmap) can deadlock XLA's CPU thread pool; keep it out."""
    from specgym.rl import networks

    init = jax.vmap(lambda k: networks.init_actor_critic(k, 12, 4, (16, 16)))
    import re

    jaxpr = str(jax.make_jaxpr(init)(jax.random.split(jax.random.PRNGKey(0), 4)))
    assert re.findall(r"\b(qr|householder_product|custom_call)\b", jaxpr) == []


def test_config_takes_hidden_sizes_as_written_on_the_command_line():
    """Text is the parser's to convert (by the field's type); the config only validates and makes a tuple."""
    from specgym.settings import field_types, parse_value

    assert PPOConfig(hidden=parse_value("hidden", "32,16", field_types(PPOConfig)["hidden"])).hidden == (32, 16)
    assert PPOConfig(hidden=64).hidden == (64,)
    assert PPOConfig(hidden=[8, 8]).hidden == (8, 8)
    with pytest.raises(ValueError, match="hidden must be one or more positive layer sizes"):
        PPOConfig(hidden="32,16")


def test_config_takes_numpy_numbers_and_refuses_a_fractional_budget():
    config = PPOConfig(total_steps=np.int64(4096), num_envs=np.int32(8), lr=np.float32(1e-3), hidden=(np.int64(8),))
    assert config.num_updates == 4096 // (8 * 32)
    for bad in ({"total_steps": 1e6}, {"hidden": (8, True)}, {"num_minibatches": 3}):
        try:
            PPOConfig(**bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
