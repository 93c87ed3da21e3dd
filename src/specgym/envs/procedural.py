"""Training on a fresh level at every reset: an unbounded level distribution, as Procgen and jaxgmg do.

A level-set env indexes its params' level arrays by ``state.level``; trained on a
few hundred fixed levels, a network can memorise them instead of learning the
task. An env that can draw one level with a JAX function (``generate_level``,
see ``specgym.envs.capabilities.GeneratesLevels``) trains on the whole
distribution through :class:`ProceduralEnv`: the drawn level travels inside the
state, as a one-level params value of the wrapped env, so the wrapped env's own
dynamics, observation and rewards run unchanged.

Evaluation stays exact: :func:`draw_level_set` draws a fixed, seeded set from the
same generator, and the tabular solver gives its optimum. A level drawn in
training may coincide with an evaluation level by chance, never by construction
(the keys come from different streams).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp

from specgym.envs.base import Env, EnvParams, RewardFn, Transition, pytree_dataclass


@pytree_dataclass
class ProceduralParams(EnvParams):
    """What the generator draws from: its ``config`` (a pytree of settings) and a ``template`` params value
    of the wrapped env whose level arrays are replaced by each drawn level (its other fields are kept)."""

    config: Any
    template: Any

    @property
    def max_steps(self) -> jax.Array:  # type: ignore[override]
        """The time limit is the template's: one value, never two that could disagree."""
        return self.template.max_steps


@pytree_dataclass
class ProceduralState:
    inner: Any  # the wrapped env's state (its ``level`` is 0: the one level below)
    level: Any  # the wrapped env's params holding only the level this episode runs in


def one_level(env, key: jax.Array, params: ProceduralParams):
    """The wrapped env's params with one freshly drawn level (a level axis of length 1)."""
    arrays = env.generate_level(key, params.config)
    return dataclasses.replace(params.template, **{name: value[None] for name, value in arrays.items()})


def draw_level_set(env, config, num_levels: int, seed: int) -> dict[str, jax.Array]:
    """``num_levels`` levels from the generator, seeded: the fixed evaluation set of that distribution."""
    keys = jax.random.split(jax.random.PRNGKey(seed), num_levels)
    return _draw_levels(env, jax.tree_util.tree_map(jnp.asarray, config), keys)


@functools.partial(jax.jit, static_argnames=("env",))
def _draw_levels(env, config, keys: jax.Array) -> dict[str, jax.Array]:
    """The generator vmapped over keys, with ``config`` traced: every split of an env shares one compilation."""
    return jax.vmap(lambda k: env.generate_level(k, config))(keys)


def check_fraction(name: str, value: float) -> None:
    """Refuse a generator share outside [0, 1], naming it."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value}")


def _on_level(reward: RewardFn) -> RewardFn:
    """The wrapped env's reward, evaluated on the wrapped transition and the episode's level."""

    def wrapped(tr: Transition, params) -> jax.Array:
        inner = Transition(tr.state.inner, tr.action, tr.next_state.inner, tr.events, tr.terminated)
        return reward(inner, tr.state.level)

    wrapped.name = getattr(reward, "name", repr(reward))
    return wrapped


class ProceduralEnv(Env[ProceduralState, ProceduralParams]):
    """``env`` on a fresh level at every reset, drawn by ``env.generate_level`` from ``params.config``."""

    def __init__(self, env: Env):
        self.env: Any = env  # a GeneratesLevels env (specgym.envs.capabilities)
        self.name = env.name
        self.num_actions = env.num_actions
        self.action_names = env.action_names
        super().__init__(_on_level(env.specified_reward), _on_level(env.intended_reward))

    costly_reset = True  # a reset draws a whole level: trainers draw them only for the envs that need one

    def with_rewards(self, specified: RewardFn | None = None, intended: RewardFn | None = None) -> Env:
        return ProceduralEnv(self.env.with_rewards(specified, intended))

    def reset_env(self, key, params):
        k_level, k_start = jax.random.split(key)
        level = one_level(self.env, k_level, params)
        return ProceduralState(self.env.reset_env(k_start, level), level)

    def chance(self, key, state, params):
        return ProceduralState(self.env.chance(key, state.inner, state.level), state.level)

    def dynamics(self, state, action, params):
        inner, events = self.env.dynamics(state.inner, action, state.level)
        return ProceduralState(inner, state.level), events

    def is_terminal(self, state, params):
        return self.env.is_terminal(state.inner, state.level)

    def observe(self, state, params):
        return self.env.observe(state.inner, state.level)

    def example_level(self, params: ProceduralParams):
        """One drawn level (a fixed key): for the observation's shape and layout."""
        return one_level(self.env, jax.random.PRNGKey(0), params)

    def observation_space(self, params):
        return self.env.observation_space(self.example_level(params))

    def render(self, state, params):
        """The wrapped env's picture of the episode's own level."""
        return self.env.render(state.inner, state.level)

    def board_shape(self, params) -> tuple[int, int, int]:
        return self.env.board_shape(self.example_level(params))  # pyright: ignore[reportAttributeAccessIssue] # grid envs


def procedural_params(config: dict, template) -> ProceduralParams:
    """Params drawing from ``config`` (values become arrays), keeping ``template``'s non-level fields."""
    return ProceduralParams({name: jnp.asarray(value) for name, value in config.items()}, template)
