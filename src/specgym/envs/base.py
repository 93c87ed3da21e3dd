"""The functional environment contract every specgym env follows.

Environments are pure functions in the gymnax style: the caller owns the key,
static configuration lives on the env instance, and everything that can be
swapped or batched (levels, time limit, reward weights) lives in the params
pytree. Train and deploy are two params values of one env, so one compiled
``step`` serves both.

Subclasses describe the world once, as three pieces the base class composes:

* ``chance(key, state, params)`` - the random part of a step (default: none),
  applied before the agent's action takes effect;
* ``dynamics(state, action, params)`` - the deterministic part, which returns
  the next state and the *events* it caused (tiles entered, coins taken...);
* ``observe`` / ``is_terminal`` / ``reset_env``.

Rewards are not written inside dynamics: the specified and the intended reward
are both reward functions (``specgym.rewards``) evaluated on the same
transition. Splitting chance from dynamics is what lets ``to_tabular`` build an
exact model of the very same code the agent is trained on.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def pytree_dataclass(cls):
    """A frozen dataclass that is also a JAX pytree (fields marked static are not traced)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    return jax.tree_util.register_dataclass(cls)


def static_field(**kwargs):
    """A dataclass field that is part of the treedef (hashable, not traced)."""
    return dataclasses.field(metadata={"static": True}, **kwargs)


class Step(NamedTuple):
    """What one environment step reports besides the observation and state."""

    reward: Array  # the SPECIFIED reward: the only reward a learner reads
    true_reward: Array  # the INTENDED objective: evaluation, diagnosis and reports only
    terminated: Array  # natural end of the episode (do not bootstrap)
    truncated: Array  # time limit reached (bootstrap from the final observation)
    info: dict  # {"events": {...}, "final_obs": obs before auto-reset, "level": int}


class Transition(NamedTuple):
    """The arguments every reward function receives.

    ``state`` is the state the action was taken in (after the step's chance
    events), ``next_state`` the state it led to, ``events`` what happened.
    """

    state: Any
    action: Array
    next_state: Any
    events: dict
    terminated: Array


RewardFn = Callable[[Transition, Any], Array]


@pytree_dataclass
class EnvState:
    """Base-class bookkeeping around the subclass's own state."""

    inner: Any
    time: Array


class Env:
    """Base class: owns the time limit, auto-reset and reward evaluation.

    ``params`` of every env must have an integer ``max_steps`` field.
    """

    name: str = "env"
    num_actions: int = 4
    action_names: tuple[str, ...] = ()

    def __init__(self, specified_reward: RewardFn, intended_reward: RewardFn):
        self.specified_reward = specified_reward
        self.intended_reward = intended_reward

    # ----- to be written by subclasses -------------------------------------------------
    def reset_env(self, key: Array, params) -> Any:
        raise NotImplementedError

    def dynamics(self, state, action: Array, params) -> tuple[Any, dict]:
        raise NotImplementedError

    def observe(self, state, params) -> Array:
        raise NotImplementedError

    def is_terminal(self, state, params) -> Array:
        return jnp.asarray(False)

    def chance(self, key: Array, state, params):
        return state

    def level_of(self, state) -> Array:
        return jnp.asarray(0, jnp.int32)

    def observation_space(self, params):
        raise NotImplementedError

    def action_space(self, params):
        from specgym.envs.spaces import Discrete

        return Discrete(self.num_actions)

    # ----- composed by the base class -------------------------------------------------
    def with_rewards(self, specified: RewardFn | None = None, intended: RewardFn | None = None) -> "Env":
        """A copy of this env whose specified (or intended) reward is replaced."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if specified is not None:
            clone.specified_reward = specified
        if intended is not None:
            clone.intended_reward = intended
        return clone

    def reset(self, key: Array, params) -> tuple[Array, EnvState]:
        inner = self.reset_env(key, params)
        return self.observe(inner, params), EnvState(inner=inner, time=jnp.asarray(0, jnp.int32))

    def transition(self, key: Array, inner, action: Array, params) -> Transition:
        """One step of the world without time limit or reset: chance, then dynamics."""
        before = self.chance(key, inner, params)
        after, events = self.dynamics(before, action, params)
        return Transition(before, action, after, events, self.is_terminal(after, params))

    def step(self, key: Array, state: EnvState, action: Array, params) -> tuple[Array, EnvState, Step]:
        key_chance, key_reset = jax.random.split(key)
        tr = self.transition(key_chance, state.inner, action, params)
        reward = jnp.asarray(self.specified_reward(tr, params), jnp.float32)
        true_reward = jnp.asarray(self.intended_reward(tr, params), jnp.float32)
        time = state.time + 1
        terminated = tr.terminated
        truncated = jnp.logical_and(time >= params.max_steps, jnp.logical_not(terminated))
        done = jnp.logical_or(terminated, truncated)

        # Select the state first and observe once: observing dominates the cost of
        # a step, and ``final_obs`` (needed only to bootstrap truncated episodes)
        # is removed by XLA whenever the caller does not read it.
        reset_inner = self.reset_env(key_reset, params)
        inner = jax.tree_util.tree_map(lambda r, n: jnp.where(done, r, n), reset_inner, tr.next_state)
        next_state = EnvState(inner=inner, time=jnp.where(done, 0, time))
        obs = self.observe(inner, params)
        final_obs = self.observe(tr.next_state, params)
        info = {"events": tr.events, "final_obs": final_obs, "level": self.level_of(state.inner)}
        return obs, next_state, Step(reward, true_reward, terminated, truncated, info)
