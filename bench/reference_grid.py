"""A minimal hand-written JAX grid world: the yardstick the env benchmark divides by.

An open 8x8 grid (MiniGrid's Empty-8x8 without walls): the agent starts in one corner,
four moves, reward 1 on reaching the goal in the opposite corner (which ends the
episode), a 64-step limit and auto-reset. The start is fixed, as boat-race's is, so no
random numbers are drawn in a step: the harness's own per-step keys are the only ones. The
learner sees one-hot agent and goal planes, 128 floats, about as many as boat-race
shows (112). It has none of specgym's ``Env`` contract (no intended reward, events,
final observation or levels): so a scenario's ratio to it is what the contract and
the scenario's own rules cost, and 1x is about the most a JAX grid env can do here.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from specgym.benchmark import Subject

SIZE, MAX_STEPS = 8, 64
MOVES = jnp.array([[-1, 0], [0, 1], [1, 0], [0, -1]])  # up, right, down, left


class State(NamedTuple):
    agent: jax.Array  # (2,) row, column
    goal: jax.Array  # (2,) row, column
    time: jax.Array  # steps taken in this episode


def observe(state: State) -> jax.Array:
    cells = jnp.arange(SIZE * SIZE)
    agent, goal = (p[0] * SIZE + p[1] for p in (state.agent, state.goal))
    return jnp.concatenate([cells == agent, cells == goal]).astype(jnp.float32)


def reset(key: jax.Array) -> tuple[jax.Array, State]:
    del key  # the start is fixed
    state = State(jnp.zeros(2, jnp.int32), jnp.full(2, SIZE - 1, jnp.int32), jnp.int32(0))
    return observe(state), state


def step(key: jax.Array, state: State, action: jax.Array) -> tuple[jax.Array, State, jax.Array]:
    agent = jnp.clip(state.agent + MOVES[action], 0, SIZE - 1)
    reached = jnp.all(agent == state.goal)
    moved = State(agent, state.goal, state.time + 1)
    fresh = reset(key)[1]
    done = reached | (moved.time >= MAX_STEPS)
    state = jax.tree.map(lambda new, old: jnp.where(done, new, old), fresh, moved)
    return observe(state), state, reached.astype(jnp.float32)


SUBJECT = Subject("reference-grid", len(MOVES), reset, step)


def widened(size: int) -> Subject:
    """The same world with an observation of ``size`` floats: the agent's one-hot cell repeated after the 128.

    The projection's cost grows with the observation's width; this subject pays it with
    the reference's own (cheap) step, so its ratio to the reference is the most an env
    of that width can reach in the harness. The extra floats follow the agent, so XLA
    cannot fold them away.
    """
    extra = jnp.arange(size - 2 * SIZE * SIZE) % (SIZE * SIZE)

    def widen(obs: jax.Array, state: State) -> jax.Array:
        return jnp.concatenate([obs, (extra == state.agent[0] * SIZE + state.agent[1]).astype(jnp.float32)])

    def wide_reset(key):
        obs, state = reset(key)
        return widen(obs, state), state

    def wide_step(key, state, action):
        obs, state, reward = step(key, state, action)
        return widen(obs, state), state, reward

    return Subject(f"reference-grid-{size}", len(MOVES), wide_reset, wide_step)
