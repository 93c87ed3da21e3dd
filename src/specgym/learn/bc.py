"""Behavioural cloning: supervised learning of the expert's action from the observation.

The cloned policy is an actor-critic pytree of ``specgym.rl.networks`` (the
critic is left untrained), so everything that evaluates or films a PPO policy
takes it as it is. Training is full-batch Adam on the cross-entropy of the
expert's actions, one jitted function vmapped over seeds. Rows carry weights
so that datasets of different sizes (DAgger's growing aggregate) can be padded
to one shape and share one compilation.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from specgym.optimise import minimise
from specgym.rl import networks


@dataclasses.dataclass(frozen=True)
class BCConfig:
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy MLP (tanh), as in PPO's networks."""
    lr: float = 3e-3
    """Adam learning rate."""
    train_steps: int = 600
    """Full-batch gradient steps."""
    weight_decay: float = 1e-4
    """Decoupled weight decay (AdamW); a little keeps logits finite on separable data."""


def cross_entropy(net, obs, actions, weights) -> jax.Array:
    """Weighted mean negative log-likelihood of ``actions`` under the policy's logits."""
    logp = jax.nn.log_softmax(networks.policy_logits(net, obs))
    nll = -jnp.take_along_axis(logp, actions[:, None], axis=1)[:, 0]
    return jnp.sum(weights * nll) / jnp.maximum(jnp.sum(weights), 1.0)


def accuracy(net, obs, actions, weights=None) -> jax.Array:
    """Share of rows whose most likely action is the demonstrated one."""
    hits = (jnp.argmax(networks.policy_logits(net, obs), axis=-1) == actions).astype(jnp.float32)
    weights = jnp.ones_like(hits) if weights is None else weights
    return jnp.sum(weights * hits) / jnp.maximum(jnp.sum(weights), 1.0)


def fit(config: BCConfig, net, obs, actions, weights):
    """``config.train_steps`` Adam steps from ``net`` on the weighted dataset; returns (net, final loss)."""
    optimiser = optax.adamw(config.lr, weight_decay=config.weight_decay)
    net, losses = minimise(lambda n: cross_entropy(n, obs, actions, weights), net, optimiser, config.train_steps)
    return net, losses[-1]


def init_policy(config: BCConfig, key, obs_size: int, num_actions: int):
    return networks.init_actor_critic(key, obs_size, num_actions, config.hidden)


@functools.partial(jax.jit, static_argnames=("config", "num_actions"))
def train_bc(config: BCConfig, obs, actions, weights, keys, num_actions: int):
    """One cloned policy per key (vmapped): ``(nets, {"loss", "accuracy"})``, each batched over seeds."""

    def one(key):
        net = init_policy(config, key, obs.shape[1], num_actions)
        net, loss = fit(config, net, obs, actions, weights)
        return net, {"loss": loss, "accuracy": accuracy(net, obs, actions, weights)}

    return jax.vmap(one)(keys)


def distinct_pairs(obs: np.ndarray, actions: np.ndarray):
    """The distinct (observation, action) rows with their counts as weights, padded with zero-weight rows to a
    power of two. The weighted loss equals the mean over all rows; a deterministic expert repeats itself, so
    there are fewer rows to push through the network, and data sets of similar size share one compilation."""
    joined = np.concatenate([np.asarray(obs, np.float32), np.asarray(actions, np.float32)[:, None]], axis=1)
    rows, counts = np.unique(joined, axis=0, return_counts=True)
    pad = (1 << int(np.ceil(np.log2(max(len(rows), 1))))) - len(rows)
    rows = np.concatenate([rows, np.zeros((pad, rows.shape[1]), np.float32)])
    counts = np.concatenate([counts, np.zeros(pad, counts.dtype)]).astype(np.float32)
    return rows[:, :-1], rows[:, -1].astype(np.int32), counts


def clone(config: BCConfig, demos, num_actions: int, key, seeds: int = 1):
    """Behavioural cloning of a :class:`~specgym.learn.demos.Demos` set on ``seeds`` seeds."""
    obs, actions, weights = distinct_pairs(demos.obs, demos.actions)
    nets, metrics = train_bc(config, jnp.asarray(obs), jnp.asarray(actions), jnp.asarray(weights),
                             jax.random.split(key, seeds), num_actions)
    return nets, {k: np.asarray(v) for k, v in metrics.items()}
