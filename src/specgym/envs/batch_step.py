"""Stepping a batch of envs whose reset draws a level: fresh states for only the envs whose episode ended.

``jax.vmap(env.step)`` computes every env's reset state at every step and keeps it
where the episode ended: batched, a select cannot skip the work it discards. That
is cheap for an env that resets to one of its fixed levels, but an env that draws
a fresh level at each reset (``ProceduralEnv``) then draws a whole maze per env
per step, while episodes end every ten to forty steps: most of a training step's
time went into levels nobody used.

:func:`step_batch` steps the batch up to each step's outcome (``Env.advance``),
then draws reset states in pools of ``pool`` and hands them out in order to the
envs whose episode ended, drawing one more pool while some ended env has none
(a ``while_loop`` whose trip count is the number of ended envs over ``pool``,
rounded up). So every ended env receives a state of its own, drawn by the env's
own ``reset_env`` from a key used for nothing else: each env's levels are
independent draws from the generator, as with ``vmap(env.step)``. No two envs
share a level drawn for them, and no level is reused, unlike an "optimistic" reset that hands out one
fixed-size pool and lets ended envs share its states when more end than it holds.
Only the random stream differs from ``vmap(env.step)``: the same key gives other levels.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from specgym.envs.base import Env, EnvState, Step


def step_batch(env: Env, key: jax.Array, states: EnvState, actions: jax.Array, params,
               pool: int) -> tuple[jax.Array, EnvState, Step]:
    """``vmap(env.step)`` over a batch (leading axis of ``states`` and ``actions``), with reset states drawn
    ``pool`` at a time for the envs whose episode ended only."""
    count = actions.shape[0]
    k_step, k_reset = jax.random.split(key)
    advanced = jax.vmap(env.advance, in_axes=(0, 0, 0, None))(jax.random.split(k_step, count), states, actions, params)
    done = advanced.done
    queue = jnp.cumsum(done) - 1  # an ended env's place in line for a fresh state
    ended = jnp.sum(done)

    def draw_pool(carry):
        round_, resets = carry
        drawn = jax.vmap(env.reset_env, in_axes=(0, None))(jax.random.split(jax.random.fold_in(k_reset, round_), pool),
                                                           params)
        slot = queue - round_ * pool
        takes = done & (slot >= 0) & (slot < pool)
        index = jnp.clip(slot, 0, pool - 1)

        def hand_out(pooled, kept):
            return jnp.where(takes.reshape((count,) + (1,) * (kept.ndim - 1)), pooled[index], kept)

        return round_ + 1, jax.tree_util.tree_map(hand_out, drawn, resets)

    def short_of_states(carry):
        return carry[0] * pool < ended

    _, resets = jax.lax.while_loop(short_of_states, draw_pool, (jnp.asarray(0), advanced.next_inner))
    return jax.vmap(env.settle, in_axes=(0, 0, None))(advanced, resets, params)
