"""Exact tabular models built from an env's own ``dynamics``.

A grid env that can be enumerated implements five small methods (see
``TabularEnv``); ``to_tabular`` then vmaps the env's *own* ``dynamics`` and
reward functions over every (level, state, action), so the exact model and the
simulator cannot drift apart. Randomness enters through the env's ``chance``
step, whose exact expectation the env supplies as a linear operator on value
tables (identity for deterministic worlds).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from specgym.envs.base import Env, ParamsT, RewardFn, StateT, Transition
from specgym.errors import ScenarioError


class TabularEnv(Env[StateT, ParamsT]):
    """An env whose states (per level) can be numbered ``0 .. S-1``."""

    def num_levels(self, params) -> int:
        raise NotImplementedError

    def num_tabular_states(self, params) -> int:
        raise NotImplementedError

    def encode(self, state, params) -> jax.Array:
        """Index of ``state`` within its level."""
        raise NotImplementedError

    def decode(self, index: jax.Array, level: jax.Array, params) -> Any:
        """The state with that index in that level (any valid state for unreachable ones)."""
        raise NotImplementedError

    def start_state(self, level: jax.Array, params) -> Any:
        """The episode's first state in a level; ``reset_env`` draws a level uniformly."""
        raise NotImplementedError

    def reset_env(self, key, params):
        level = jax.random.randint(key, (), 0, self.num_levels(params))
        return self.start_state(level, params)

    def chance_expectation(self, values: jax.Array, level: jax.Array, params) -> jax.Array:
        """Map V(state after chance) to E[V] as a function of the state before it.

        Deterministic worlds keep the identity.
        """
        return values

    def expect_levels(self, values: jax.Array, params) -> jax.Array:
        """``chance_expectation`` applied to the (L, S) values of every level at once."""
        levels = jnp.arange(values.shape[0])
        return jax.vmap(lambda v, l: self.chance_expectation(v, l, params))(values, levels)


@dataclasses.dataclass(frozen=True)
class TabularMDP:
    """Exact model of one env on one params value (a level set).

    Arrays have a leading level axis ``L``; episodes start in ``initial[l]``
    of a level drawn with probability ``level_weights[l]``. ``expect`` maps
    (L, S) values after the chance step to their expectation before it; it is
    called as ``expect(values, expect_params)`` when ``expect_params`` is given
    (so one compiled solver serves every params value of an env) and as
    ``expect(values)`` otherwise.
    """

    next_state: jax.Array  # (L, S, A) int32
    terminated: jax.Array  # (L, S, A) bool: the transition ends the episode
    initial: jax.Array  # (L,) int32
    level_weights: jax.Array  # (L,)
    horizon: int  # the env's time limit, in steps
    expect: Callable[..., jax.Array]
    _rewards: Callable[[RewardFn], jax.Array]
    expect_params: Any = None

    @property
    def shape(self) -> tuple[int, int, int]:
        levels, states, actions = self.next_state.shape
        return levels, states, actions

    def rewards(self, reward_fn: RewardFn) -> jax.Array:
        """(L, S, A) table of any reward function on this model's transitions."""
        return self._rewards(reward_fn)

    def expectation(self, values: jax.Array) -> jax.Array:
        return self.expect(values) if self.expect_params is None else self.expect(values, self.expect_params)


def _transitions(env: TabularEnv, params, num_states: int):
    """Decoded transitions for every (level, state, action) - as pytrees with those leading axes."""
    levels = jnp.arange(env.num_levels(params))
    actions = jnp.arange(env.num_actions)

    def one(level, index, action):
        state = env.decode(index, level, params)
        after, events = env.dynamics(state, action, params)
        return Transition(state, action, after, events, env.is_terminal(after, params))

    per_action = jax.vmap(one, in_axes=(None, None, 0))
    per_state = jax.vmap(per_action, in_axes=(None, 0, None))
    per_level = jax.vmap(per_state, in_axes=(0, None, None))
    return per_level(levels, jnp.arange(num_states), actions)


# Module-level jitted pieces with the env (and reward function) static and the
# params traced: train and deploy level sets of one shape share one compilation.
@functools.partial(jax.jit, static_argnames=("env", "num_states"))
def _structure(env: TabularEnv, params, num_states: int):
    tr = _transitions(env, params, num_states)
    encode = jax.vmap(jax.vmap(jax.vmap(lambda s: env.encode(s, params))))
    levels = jnp.arange(env.num_levels(params))
    starts = jax.vmap(lambda l: env.encode(env.start_state(l, params), params))(levels)
    return encode(tr.next_state), tr.terminated, starts


@functools.partial(jax.jit, static_argnames=("env", "reward_fn", "num_states"))
def _reward_table(env: TabularEnv, reward_fn: RewardFn, params, num_states: int):
    tr = _transitions(env, params, num_states)
    flat = jax.vmap(jax.vmap(jax.vmap(lambda t: reward_fn(t, params))))
    return jnp.asarray(flat(tr), jnp.float32)


MAX_TABLE_ENTRIES = 2**26
"""The most (level, state, action) triples an exact model enumerates: each table then takes at most 256 MiB."""


def to_tabular(env: TabularEnv, params) -> TabularMDP:
    """Enumerate ``env`` on ``params`` into an exact :class:`TabularMDP`.

    A level set too large to enumerate is refused (never approximated): every score is anchored on this model.
    """
    num_states = env.num_tabular_states(params)
    num_levels = env.num_levels(params)
    entries = num_levels * num_states * env.num_actions
    if entries > MAX_TABLE_ENTRIES:
        raise ScenarioError(f"{env.name}: {num_levels} levels x {num_states} states x {env.num_actions} actions is "
                            f"{entries:,} table entries, over the exact solver's limit of {MAX_TABLE_ENTRIES:,}; "
                            "use fewer levels")
    next_state, terminated, initial = _structure(env, params, num_states)
    return TabularMDP(
        next_state=next_state,
        terminated=terminated,
        initial=initial,
        level_weights=jnp.full((num_levels,), 1.0 / num_levels),
        horizon=env.horizon(params),
        expect=env.expect_levels,
        _rewards=lambda reward_fn: _reward_table(env, reward_fn, params, num_states),
        expect_params=params,
    )
