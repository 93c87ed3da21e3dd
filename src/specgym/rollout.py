"""One rollout of the first episode of many parallel envs, with a hook that records what each caller needs.

Every score, heatmap, detector distance, behaviour fit and imitation data set is
read off the same loop: reset ``episodes`` envs, let a policy act, step them all
for the env's horizon, and count a step only while its env is still in its
first episode (``alive``). Envs that finish early are auto-reset by
``Env.step`` and keep stepping, but nothing after their first end counts.

The loop is written once here. A caller says what to keep with a *record hook*
``record(view, record_data) -> pytree`` that sees a :class:`StepView` of every
step; :func:`rollout` stacks the hook's output over steps (a trace of shape
(horizon, episodes, ...)), :func:`first_episode_totals` sums it over the first
episode's steps instead (per-episode totals, the cheap path evaluation takes).

A policy is a pair ``(act, policy)``: ``act(policy, obs, env_state, key) -> actions``
acts for the whole batch at once. Learners that act one episode at a time (a
tabular expert reads the state's number, a procedure cloner runs a search) are
lifted with :func:`per_episode`. Hooks and action functions are static
arguments of the compiled loop: pass the same function object each time (a
module-level function or one built once per env) or it compiles again.

Keys: each step's key splits into (act, env, record); the record key is the
hook's own (an expert labelling the visited states draws from it), so the
actions and the env's randomness do not depend on what is recorded.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from specgym.envs.base import Env, EnvState, Step
from specgym.envs.capabilities import Enumerable
from specgym.rl import networks

Array = jax.Array
Act = Callable[[Any, Array, EnvState, Array], Array]
"""``act(policy, obs, env_state, key) -> actions`` for a batch of envs (leading axis: episodes)."""


class StepView(NamedTuple):
    """What a record hook sees of one step of every env (arrays with a leading episode axis)."""

    env: Env
    params: Any
    obs: Array  # the observation the action was chosen on
    state: EnvState  # the state the action was taken in
    action: Array
    step: Step  # what ``env.step`` reported (rewards, ends, events)
    alive: Array  # bool: this step belongs to the env's first episode
    env_keys: Array  # the key each env's ``step`` received (``Env.step_transition`` replays it)
    key: Array  # a key of the hook's own


Record = Callable[[StepView, Any], Any]
"""``record(view, record_data) -> pytree`` of arrays with a leading episode axis."""


def mlp_act(net, obs: Array, env_state: EnvState | None, key: Array) -> Array:
    """An actor-critic's actions, drawn from its logits: for a batch with one key (evaluation), or for one
    episode (lifted by :func:`per_episode`, each episode draws its own key, as imitation learners act)."""
    return jax.random.categorical(key, networks.policy_logits(net, obs))


@dataclasses.dataclass(frozen=True)
class PerEpisode:
    """The batched form of an action function written for one episode; each episode draws its own key.

    Lifting the same function twice gives equal objects, so the compiled loop is reused.
    """

    act_one: Act

    def __call__(self, policy, obs: Array, env_state: EnvState, key: Array) -> Array:
        keys = jax.random.split(key, obs.shape[0])
        return jax.vmap(self.act_one, in_axes=(None, 0, 0, 0))(policy, obs, env_state, keys)


def per_episode(act_one: Act) -> Act:
    """``act_one`` (one episode's action function) lifted to a batch of episodes: see :class:`PerEpisode`."""
    return PerEpisode(act_one)


def _loop(env: Env, params, act: Act, policy, key, episodes: int, horizon: int, record: Record, record_data,
          totals: bool):
    """The loop itself: the hook's outputs stacked over steps, or (``totals``) summed over first-episode steps."""
    k_reset, k_run = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, episodes), params)

    def advance(obs, state, alive, key):
        """One step of every env: (next obs, next state, next alive), and the hook's record of the step."""
        k_act, k_env, k_record = jax.random.split(key, 3)
        action = act(policy, obs, state, k_act)
        env_keys = jax.random.split(k_env, episodes)
        next_obs, next_state, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(env_keys, state, action, params)
        view = StepView(env, params, obs, state, action, out, alive, env_keys, k_record)
        return (next_obs, next_state, alive & ~(out.terminated | out.truncated)), record(view, record_data)

    def step(carry, key):
        (obs, state, alive), sums = carry
        moved, out = advance(obs, state, alive, key)
        if not totals:
            return (moved, sums), out
        def add_live(total, value):  # a leaf may have axes after the episode axis
            value = jnp.asarray(value, jnp.float32)
            return total + alive.reshape(alive.shape + (1,) * (value.ndim - 1)) * value

        sums = jax.tree_util.tree_map(add_live, sums, out)
        return (moved, sums), None

    start = (obs, state, jnp.ones(episodes, bool))
    keys = jax.random.split(k_run, horizon)
    if not totals:
        return jax.lax.scan(step, (start, None), keys)[1]
    shapes = jax.eval_shape(lambda: advance(*start, keys[0])[1])
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, jnp.float32), shapes)
    return jax.lax.scan(step, (start, zeros), keys)[0][1]


@functools.partial(jax.jit, static_argnames=("env", "act", "episodes", "horizon", "record"))
def rollout(env: Env, params, act: Act, policy, key: Array, episodes: int, horizon: int, record: Record,
            record_data=None):
    """The hook's record of every step of ``episodes`` parallel envs: leaves of shape (horizon, episodes, ...).

    Steps after an env's first episode are recorded too; ``view.alive`` says which
    belong to it (record it, or use :func:`first_episode_totals`).
    """
    return _loop(env, params, act, policy, key, episodes, horizon, record, record_data, totals=False)


@functools.partial(jax.jit, static_argnames=("env", "act", "episodes", "horizon", "record"))
def first_episode_totals(env: Env, params, act: Act, policy, key: Array, episodes: int, horizon: int,
                         record: Record, record_data=None):
    """Per-episode sums (float32, leaves of shape (episodes, ...)) of the hook's record over each first episode.

    The same loop and keys as :func:`rollout`; summing as it goes keeps no trace in memory.
    """
    return _loop(env, params, act, policy, key, episodes, horizon, record, record_data, totals=True)


def returns_and_events(view: StepView, _=None) -> dict:
    """Specified and intended reward and the step's events: what evaluation sums per episode."""
    return {"specified": view.step.reward, "intended": view.step.true_reward, **view.step.info.events}


def step_trace(view: StepView, _=None) -> dict:
    """The standard per-step trace: observation, action, ``alive``, step within the episode, level, rewards,
    events and, for enumerable envs, ``cell`` (the state's tabular number)."""
    env, state = view.env, view.state
    trace = {"obs": view.obs, "action": view.action, "alive": view.alive, "time": state.time,
             "level": jnp.broadcast_to(jax.vmap(env.level_of)(state.inner), view.action.shape),
             "specified": view.step.reward, "intended": view.step.true_reward, "events": view.step.info.events}
    if isinstance(env, Enumerable):
        trace["cell"] = jax.vmap(lambda inner: env.encode(inner, view.params))(state.inner)
    return trace


@dataclasses.dataclass(frozen=True)
class LabelledBy:
    """Record hook: :func:`step_trace` plus ``label_action``, what a second policy (``record_data``) would have
    done in each visited state, asked but never taken - the data DAgger aggregates."""

    label: Act

    def __call__(self, view: StepView, label_policy) -> dict:
        return {**step_trace(view), "label_action": self.label(label_policy, view.obs, view.state, view.key)}


def labelled_by(label: Act) -> Record:
    """The :class:`LabelledBy` hook of ``label`` (equal for equal labels, so the loop compiles once)."""
    return LabelledBy(label)
