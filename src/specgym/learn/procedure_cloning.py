"""Procedure cloning (Yang et al. 2022): imitate the expert's search, then read the action off it.

The maze expert decides by breadth-first search from the goal: frame ``k`` of
its procedure is the map of cells within ``k`` steps of the goal, and its
action moves the agent to a neighbour that was reached one frame before the
agent's own cell. Behavioural cloning sees only (observation, action) pairs;
procedure cloning is also given the frames and learns two small networks:

* a **step model** that maps a cell's 3 x 3 neighbourhood of (walls, frame k)
  to whether the cell is in frame k + 1 - the expert's procedure, one
  expansion at a time, trained with teacher forcing on the expert's frames;
* an **action head** that maps the agent's 3 x 3 neighbourhood of (walls, the
  frame before the agent was reached) to the expert's action.

Acting in a new maze, the learner runs its own step model from the goal until
the agent's cell lights up (the predicted trace), then applies the action head.
Both networks only ever see local patches, which is why what they learn carries
to layouts never seen; the price is a search at every step (compute grows with
the maze), the overhead reading 002 names. Observations are the flattened
(wall, agent, goal) board of ``envs/bfs_maze.py``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from specgym.optimise import minimise
from specgym.rl.networks import apply_mlp, init_mlp

NUM_CHANNELS = 3  # wall, agent, goal


@dataclasses.dataclass(frozen=True)
class PCConfig:
    hidden: int = 32
    """Hidden units of the step model and of the action head (one tanh layer each)."""
    lr: float = 3e-3
    """Adam learning rate."""
    train_steps: int = 600
    """Full-batch gradient steps for each network."""
    trace_mazes: int = 256
    """Demonstrated episodes whose expert search trace trains the step model (the first ones)."""
    trace_frames: int = 16
    """Expansions of each expert trace used for training (the frontier stops moving soon after)."""


def board(obs: jax.Array, side: int) -> jax.Array:
    """A flat (wall, agent, goal) observation as a (side, side, 3) board."""
    return obs.reshape(side, side, NUM_CHANNELS)


def patches(layer: jax.Array, fill: float) -> jax.Array:
    """(H, W) -> (H, W, 9): each cell's 3 x 3 neighbourhood, ``fill`` beyond the edge."""
    padded = jnp.pad(layer, 1, constant_values=fill)
    h, w = layer.shape
    return jnp.stack([padded[r:r + h, c:c + w] for r in range(3) for c in range(3)], axis=-1)


def features(walls: jax.Array, frame: jax.Array) -> jax.Array:
    """(H, W, 18): walls (outside counts as wall) and the frame around every cell."""
    return jnp.concatenate([patches(walls, 1.0), patches(frame, 0.0)], axis=-1)


def bfs_expand(walls: jax.Array, frame: jax.Array) -> jax.Array:
    """The expert's procedure: one breadth-first expansion of ``frame`` through free cells."""
    p = patches(frame, 0.0)
    neighbour = jnp.maximum(jnp.maximum(p[..., 1], p[..., 3]), jnp.maximum(p[..., 5], p[..., 7]))
    return jnp.maximum(frame, neighbour * (1.0 - walls))


def search(expand, walls, goal, agent, num_steps: int):
    """Run ``expand`` from the goal; returns (frame before the agent was reached, all frames).

    If the agent is never reached the last frame is returned in its place.
    """

    def step(carry, _):
        frame, before, found = carry
        nxt = expand(walls, frame)
        reached = jnp.sum(nxt * agent) > 0.5
        before = jnp.where(found | ~reached, before, frame)
        return (nxt, before, found | reached), nxt

    (last, before, found), frames = jax.lax.scan(step, (goal, goal, jnp.sum(goal * agent) > 0.5), None,
                                                 length=num_steps)
    return jnp.where(found, before, last), frames


def agent_patch(walls, frame, agent) -> jax.Array:
    """The 18 features of the agent's cell."""
    return jnp.einsum("hwf,hw->f", features(walls, frame), agent)


def learned_expand(step_net):
    """The step model as an expansion function (thresholded at probability 1/2)."""

    def expand(walls, frame):
        logits = apply_mlp(step_net, features(walls, frame))[..., 0]
        return (logits > 0.0).astype(jnp.float32)

    return expand


def make_act(side: int):
    """The action function of a procedure cloner (one episode at a time, see ``specgym.rollout.per_episode``)."""

    def act(policy, obs, env_state, key):
        b = board(obs, side)
        before, _ = search(learned_expand(policy["step"]), b[..., 0], b[..., 2], b[..., 1], side * side)
        logits = apply_mlp(policy["action"], agent_patch(b[..., 0], before, b[..., 1]))
        return jax.random.categorical(key, logits)

    return act


def expert_targets(obs: jax.Array, side: int, trace_frames: int):
    """For one observation: the expert's trace (frames 0..K) and the agent patch before it was reached."""
    b = board(obs, side)
    walls, agent, goal = b[..., 0], b[..., 1], b[..., 2]
    before, frames = search(bfs_expand, walls, goal, agent, side * side)
    frames = jnp.concatenate([goal[None], frames[:trace_frames]])
    return frames, walls, agent_patch(walls, before, agent)


def _fit(loss_fn, params, config: PCConfig):
    params, losses = minimise(loss_fn, params, optax.adam(config.lr), config.train_steps)
    return params, losses[-1]


@functools.partial(jax.jit, static_argnames=("side", "trace_frames"))
def expert_examples(obs, trace_obs, side: int, trace_frames: int):
    """Training rows: step-model (inputs, targets) from the traces of ``trace_obs``; action-head inputs of ``obs``."""
    frames, walls, _ = jax.vmap(lambda o: expert_targets(o, side, trace_frames))(trace_obs)
    inputs = jax.vmap(jax.vmap(features, in_axes=(None, 0)))(walls, frames[:, :-1]).reshape(-1, 18)
    _, _, head_inputs = jax.vmap(lambda o: expert_targets(o, side, trace_frames))(obs)
    return inputs, frames[:, 1:].reshape(-1), head_inputs


def unique_rows(inputs: np.ndarray, targets: np.ndarray):
    """The distinct (binary inputs, target) rows and how often each occurs, padded with zero-count rows to a
    power of two (so data sets of similar size share one compilation).

    A mean loss over the rows equals the count-weighted mean over the distinct
    rows, and a maze's 3 x 3 patches repeat endlessly: a few hundred distinct
    rows stand for a few hundred thousand.
    """
    joined = np.concatenate([np.asarray(inputs), np.asarray(targets)[:, None]], axis=1).astype(np.uint8)
    rows, counts = np.unique(joined, axis=0, return_counts=True)
    size = 1 << int(np.ceil(np.log2(max(len(rows), 1))))
    pad = size - len(rows)
    rows = np.concatenate([rows, np.zeros((pad, rows.shape[1]), np.uint8)])
    counts = np.concatenate([counts, np.zeros(pad, counts.dtype)])
    return rows[:, :-1].astype(np.float32), rows[:, -1].astype(np.float32), counts.astype(np.float32)


@functools.partial(jax.jit, static_argnames=("config", "num_actions"))
def train_pc(config: PCConfig, step_inputs, step_targets, step_counts, head_inputs, actions, keys,
             num_actions: int):
    """Procedure cloners on ``keys`` (vmapped): ``(policies, metrics)``.

    The step model trains on count-weighted distinct rows (``unique_rows``), the
    action head on every demonstrated step (its inputs from ``expert_examples``).
    """
    total = jnp.sum(step_counts)

    def step_loss(net):
        logits = apply_mlp(net, step_inputs)[:, 0]
        return jnp.sum(step_counts * optax.sigmoid_binary_cross_entropy(logits, step_targets)) / total

    def action_loss(net):
        logp = jax.nn.log_softmax(apply_mlp(net, head_inputs))
        return -jnp.take_along_axis(logp, actions[:, None], axis=1).mean()

    def one(key):
        k_step, k_action = jax.random.split(key)
        step_net, step_l = _fit(step_loss, init_mlp(k_step, [18, config.hidden, 1], 1.0), config)
        action_net, action_l = _fit(action_loss, init_mlp(k_action, [18, config.hidden, num_actions], 0.01), config)
        hits = (apply_mlp(step_net, step_inputs)[:, 0] > 0) == (step_targets > 0.5)
        return {"step": step_net, "action": action_net}, {"step_loss": step_l, "action_loss": action_l,
                                                           "step_accuracy": jnp.sum(step_counts * hits) / total}

    return jax.vmap(one)(keys)


def clone_procedure(config: PCConfig, demos, side: int, num_actions: int, key, seeds: int = 1):
    """Procedure cloning of a Demos set of ``bfs-maze``-style boards on ``seeds`` seeds."""
    first = np.flatnonzero(demos.steps == 0)[: config.trace_mazes]
    inputs, targets, head_inputs = expert_examples(jnp.asarray(demos.obs), jnp.asarray(demos.obs[first]), side,
                                                   config.trace_frames)
    rows, row_targets, counts = unique_rows(inputs, targets)
    policies, metrics = train_pc(config, rows, row_targets, counts, head_inputs, jnp.asarray(demos.actions),
                                 jax.random.split(key, seeds), num_actions)
    return policies, {k: np.asarray(v) for k, v in metrics.items()}
