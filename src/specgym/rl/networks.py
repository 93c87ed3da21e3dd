"""Small actor-critic MLPs as plain pytrees of arrays.

Plain functions over dicts keep the whole training run one jitted, vmappable
function with nothing hidden; the parameters save to ``.npz`` as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

Params = dict


def init_mlp(key: jax.Array, sizes: Sequence[int], final_scale: float) -> list[dict]:
    """Scaled-normal weights (gain sqrt(2) inside, ``final_scale`` for the output), zero biases.

    Not orthogonal initialisation: that needs a QR factorisation, and XLA's CPU
    LAPACK kernel for a *batched* QR (init vmapped over seeds) can deadlock its
    own thread pool. A normal draw with variance gain^2 / fan_in is just as good
    for these small networks.
    """
    layers = []
    keys = jax.random.split(key, len(sizes) - 1)
    for i, (k, n_in, n_out) in enumerate(zip(keys, sizes[:-1], sizes[1:], strict=True)):
        gain = final_scale if i == len(sizes) - 2 else jnp.sqrt(2.0)
        w = gain / jnp.sqrt(n_in) * jax.random.normal(k, (n_in, n_out), jnp.float32)
        layers.append({"w": w, "b": jnp.zeros((n_out,), jnp.float32)})
    return layers


def apply_mlp(layers: list[dict], x: jax.Array) -> jax.Array:
    for layer in layers[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def init_actor_critic(key: jax.Array, obs_size: int, num_actions: int, hidden: Sequence[int]) -> Params:
    k_actor, k_critic = jax.random.split(key)
    return {
        "actor": init_mlp(k_actor, [obs_size, *hidden, num_actions], 0.01),
        "critic": init_mlp(k_critic, [obs_size, *hidden, 1], 1.0),
    }


def policy_logits(params: Params, obs: jax.Array) -> jax.Array:
    return apply_mlp(params["actor"], obs)


def value(params: Params, obs: jax.Array) -> jax.Array:
    return apply_mlp(params["critic"], obs)[..., 0]
