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

Params derive from :class:`EnvParams` (the time limit is the one field the base
reads); ``Env`` is generic over the subclass's state and params types, so a type
checker follows them through ``step``. What only some envs can do (an exact
tabular model...) is a protocol in ``specgym.envs.capabilities``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar, dataclass_transform

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def pytree_dataclass(cls):
    """A frozen dataclass that is also a JAX pytree (fields marked static are not traced)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    return jax.tree_util.register_dataclass(cls)


def static_field(**kwargs):
    """A dataclass field that is part of the treedef (hashable, not traced)."""
    return dataclasses.field(metadata={"static": True}, **kwargs)


class EnvParams:
    """Base of every env's params: the one field the base class reads is the time limit.

    Subclasses are ``pytree_dataclass`` es that declare ``max_steps`` among their
    own fields (in the position they choose); this class carries no dataclass
    fields, so it changes neither their constructors nor their pytree leaves.
    """

    max_steps: Array  # int32 scalar: steps after which an episode is truncated


StateT = TypeVar("StateT")
ParamsT = TypeVar("ParamsT", bound=EnvParams)


class StepInfo(NamedTuple):
    """What a step reports for bookkeeping, never for the learner's reward."""

    events: dict  # what the dynamics recorded (tiles entered, laps, tampering...), name -> array
    final_obs: Array  # the observation before auto-reset (to bootstrap truncated episodes)
    level: Array  # the level the step was taken in


class Step(NamedTuple):
    """What one environment step reports besides the observation and state."""

    reward: Array  # the SPECIFIED reward: the only reward a learner reads
    true_reward: Array  # the INTENDED objective: evaluation, diagnosis and reports only
    terminated: Array  # natural end of the episode (do not bootstrap)
    truncated: Array  # time limit reached (bootstrap from the final observation)
    info: StepInfo


class Transition(NamedTuple):
    """The arguments every reward function receives.

    ``state`` is the state the action was taken in (after the step's chance
    events), ``next_state`` the state it led to, ``events`` what happened.
    ``action`` is None where outcomes are scored with no action that chose them
    (``goodhart_choice.score_outcomes``: there rewards read only events).
    """

    state: Any
    action: Array | None
    next_state: Any
    events: dict
    terminated: Array


RewardFn = Callable[[Transition, Any], Array]


@pytree_dataclass
class EnvState:
    """Base-class bookkeeping around the subclass's own state."""

    inner: Any
    time: Array


class Env(Generic[StateT, ParamsT]):
    """Base class: owns the time limit, auto-reset and reward evaluation.

    Typed over the subclass's own state and its params (an :class:`EnvParams`).
    """

    name: str = "env"
    num_actions: int = 4
    action_names: tuple[str, ...] = ()
    costly_reset: bool = False
    """True where a reset costs far more than a step (it draws a level): a trainer stepping a batch then draws
    reset states for only the envs whose episode ended (``specgym.envs.batch_step``)."""

    def __init__(self, specified_reward: RewardFn, intended_reward: RewardFn):
        self.specified_reward = specified_reward
        self.intended_reward = intended_reward

    # ----- to be written by subclasses -------------------------------------------------
    def reset_env(self, key: Array, params: ParamsT) -> StateT:
        raise NotImplementedError

    def dynamics(self, state: StateT, action: Array, params: ParamsT) -> tuple[StateT, dict]:
        raise NotImplementedError

    def observe(self, state: StateT, params: ParamsT) -> Array:
        raise NotImplementedError

    def is_terminal(self, state: StateT, params: ParamsT) -> Array:
        return jnp.asarray(False)

    def chance(self, key: Array, state: StateT, params: ParamsT) -> StateT:
        return state

    def level_of(self, state: StateT) -> Array:
        return jnp.asarray(0, jnp.int32)

    def observation_space(self, params: ParamsT):
        raise NotImplementedError

    def action_space(self, params: ParamsT):
        from specgym.envs.spaces import Discrete

        return Discrete(self.num_actions)

    # ----- composed by the base class -------------------------------------------------
    @staticmethod
    def horizon(params: EnvParams) -> int:
        """The time limit as a Python int: the length of a rollout that covers a whole first episode.

        Static (it sizes scans and arrays), so ``params.max_steps`` must be concrete here, not traced.
        """
        return int(np.asarray(params.max_steps))

    def with_rewards(self, specified: RewardFn | None = None, intended: RewardFn | None = None) -> Env:
        """A copy of this env whose specified (or intended) reward is replaced."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if specified is not None:
            clone.specified_reward = specified
        if intended is not None:
            clone.intended_reward = intended
        return clone

    def reset(self, key: Array, params: ParamsT) -> tuple[Array, EnvState]:
        inner = self.reset_env(key, params)
        return self.observe(inner, params), EnvState(inner=inner, time=jnp.asarray(0, jnp.int32))

    def transition(self, key: Array, inner: StateT, action: Array, params: ParamsT) -> Transition:
        """One step of the world without time limit or reset: chance, then dynamics."""
        before = self.chance(key, inner, params)
        after, events = self.dynamics(before, action, params)
        return Transition(before, action, after, events, self.is_terminal(after, params))

    def step_transition(self, key: Array, state: EnvState, action: Array, params: ParamsT) -> Transition:
        """The transition ``step(key, state, action, params)`` makes: for reward functions other than the env's
        own (a candidate goal's) on exactly the steps a rollout took."""
        return self.transition(jax.random.split(key)[0], state.inner, action, params)

    def outcome(self, tr: Transition, time: Array, params: ParamsT) -> tuple[Array, Array, Array, Array]:
        """(specified reward, intended reward, terminated, truncated) of a transition that ends at step ``time``.

        The one place rewards and episode ends are read off a transition: ``step`` and the adapters that step
        without auto-reset (gymnax, Gymnasium) all call it.
        """
        reward = jnp.asarray(self.specified_reward(tr, params), jnp.float32)
        true_reward = jnp.asarray(self.intended_reward(tr, params), jnp.float32)
        terminated = tr.terminated
        truncated = jnp.logical_and(time >= params.max_steps, jnp.logical_not(terminated))
        return reward, true_reward, terminated, truncated

    def step(self, key: Array, state: EnvState, action: Array, params: ParamsT) -> tuple[Array, EnvState, Step]:
        key_reset = jax.random.split(key)[1]
        return self.settle(self.advance(key, state, action, params), self.reset_env(key_reset, params), params)

    def advance(self, key: Array, state: EnvState, action: Array, params: ParamsT) -> Advanced:
        """The first half of ``step``: the transition and its outcome, before any reset."""
        tr = self.step_transition(key, state, action, params)
        time = state.time + 1
        reward, true_reward, terminated, truncated = self.outcome(tr, time, params)
        # ``final_obs`` (needed only to bootstrap truncated episodes) is removed by XLA whenever no caller reads it
        info = StepInfo(events=tr.events, final_obs=self.observe(tr.next_state, params), level=self.level_of(state.inner))
        return Advanced(tr.next_state, time, Step(reward, true_reward, terminated, truncated, info))

    def settle(self, advanced: Advanced, reset_inner: StateT, params: ParamsT) -> tuple[Array, EnvState, Step]:
        """The second half of ``step``: where the episode ended, continue from ``reset_inner`` instead.

        Apart from ``step`` so that a batch of envs can draw reset states for only the envs whose episode
        ended (``specgym.envs.batch_step``): a reset that draws a level costs far more than a step.
        """
        done = advanced.done
        # Select the state first and observe once: observing dominates the cost of a step.
        inner = jax.tree_util.tree_map(lambda r, n: jnp.where(done, r, n), reset_inner, advanced.next_inner)
        next_state = EnvState(inner=inner, time=jnp.where(done, 0, advanced.time))
        return self.observe(inner, params), next_state, advanced.step


class Advanced(NamedTuple):
    """A step taken up to its outcome (``Env.advance``), waiting for ``Env.settle`` to apply any reset."""

    next_inner: Any  # the state the action led to
    time: Array  # steps into the episode after this one
    step: Step

    @property
    def done(self) -> Array:
        return jnp.logical_or(self.step.terminated, self.step.truncated)
