"""specgym scenarios as Gymnasium 1.x environments: ``gymnasium.make("specgym/boat-race-v0", split="train")``.

``import specgym`` registers one id per scenario, ``specgym/<scenario>-v0``, when Gymnasium is installed
(``pip install 'specgym[gymnasium]'``); ``split``, ``fixes`` and ``settings`` are keyword arguments of
``gymnasium.make``. The env follows Gymnasium's contract:

* observations are float32 NumPy arrays in a ``Box``; actions come from ``Discrete(n)``;
* ``reset(seed=...)`` seeds ``np_random`` and, from it, the JAX key every later reset and step splits, so a
  seed and a sequence of actions give one trajectory;
* ``terminated`` is a natural end and ``truncated`` the time limit (never both); nothing resets by itself;
* ``reward`` is the specified reward; ``info`` holds ``intended_reward`` and ``events`` (name -> value), for
  evaluation only;
* ``render_mode="rgb_array"`` gives the frames the run's GIFs are made of.

Each (scenario, split, fixes, settings) compiles its ``reset`` and ``step`` once per process, shared by every
instance (``gymnasium.make`` makes several; the env checker makes more).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.base import EnvState
from specgym.errors import ScenarioError
from specgym.policies import describe_action_space
from specgym.scenarios import get as get_scenario
from specgym.scenarios.base import frozen, parse_fix_items, recorded_events
from specgym.scenarios.registry import builtin_ids

try:
    import gymnasium
    from gymnasium import spaces
except ImportError as missing:  # pragma: no cover - depends on what is installed
    raise ImportError("specgym.gymnasium needs Gymnasium: pip install 'specgym[gymnasium]'") from missing

NAMESPACE = "specgym"
VERSION = 0


def gymnasium_id(scenario_id: str) -> str:
    """The Gymnasium id of a scenario: ``specgym/<id>-v0``."""
    return f"{NAMESPACE}/{scenario_id}-v{VERSION}"


def registered_ids() -> list[str]:
    """specgym's ids in Gymnasium's registry, sorted."""
    return sorted(name for name in gymnasium.registry if name.startswith(NAMESPACE + "/"))


def register_envs() -> None:
    """Register every built-in scenario with Gymnasium (cheap: scenarios are imported only when made)."""
    for scenario_id in builtin_ids():
        env_id = gymnasium_id(scenario_id)
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point="specgym.gymnasium:SpecgymEnv",
                               vector_entry_point="specgym.gymnasium_vector:SpecgymVectorEnv",
                               kwargs={"scenario": scenario_id})


def make(env_id: str, **kwargs) -> gymnasium.Env:
    """``gymnasium.make`` for specgym's ids, refusing an unknown one with the list of registered ids."""
    if env_id not in registered_ids():
        raise ScenarioError(f"unknown Gymnasium id {env_id!r}; registered: {', '.join(registered_ids())}")
    return gymnasium.make(env_id, **kwargs)


# ----- one compiled reset and step per split, shared ------------------------------------------------
class Compiled(NamedTuple):
    """A scenario split and its compiled functions (keys are split inside them: one dispatch per call)."""

    scenario_id: str
    env: Any
    params: Any
    event_names: list[str]  # sorted, as the steps' numbers hold them
    reset: Any  # (key, params) -> (next key, obs, state)
    step: Any  # (key, state, action, params) -> (next key, state, obs, numbers): see :func:`numbers`
    vector_reset: Any  # (key, params, n) -> (next key, obs, states) of n envs
    vector_step: Any  # (key, states, actions, params) -> (next key, states, (obs, final obs) stacked, numbers):
    #                   specgym's own step, auto-reset in the same step


def compiled_split(scenario: str, split: str, fixes, settings) -> Compiled:
    """The compiled functions of a scenario's split (built once per distinct arguments)."""
    fixes = parse_fix_items(fixes)
    return _compiled(scenario, split, frozen(fixes), frozen(settings or {}))


@functools.cache
def _compiled(scenario_id: str, split: str, fixes: tuple, settings: tuple) -> Compiled:
    found = get_scenario(scenario_id)
    env, params = found.split_env(split, dict(settings), dict(fixes))

    def reset(key, params):
        key, k_reset = jax.random.split(key)
        inner = env.reset_env(k_reset, params)
        return key, env.observe(inner, params), EnvState(inner=inner, time=jnp.asarray(0, jnp.int32))

    def step(key, state, action, params):
        key, k_step = jax.random.split(key)
        tr = env.transition(k_step, state.inner, action, params)
        time = state.time + 1
        reward, intended, terminated, truncated = env.outcome(tr, time, params)
        obs = env.observe(tr.next_state, params)
        return key, EnvState(inner=tr.next_state, time=time), obs, numbers(reward, intended, terminated, truncated,
                                                                         tr.events)

    def vector_reset(key, params, n):
        key, k_reset = jax.random.split(key)
        obs, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, n), params)
        return key, obs, states

    def vector_step(key, states, actions, params):
        key, k_step = jax.random.split(key)
        keys = jax.random.split(k_step, actions.shape[0])
        obs, states, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, states, actions, params)
        both = jnp.stack([obs, out.info.final_obs], axis=1)
        return key, states, both, numbers(out.reward, out.true_reward, out.terminated, out.truncated, out.info.events)

    return Compiled(found.id, env, params, recorded_events(env, params), jax.jit(reset), jax.jit(step),
                    jax.jit(vector_reset, static_argnums=2), jax.jit(vector_step))


def numbers(reward, intended, terminated, truncated, events) -> jax.Array:
    """A step's numbers as one float32 array (..., 4 + events), columns ``NUMBER_COLUMNS`` then the events in
    name order: one transfer to NumPy per step instead of one per number."""
    columns = [reward, intended, terminated, truncated, *(events[name] for name in sorted(events))]
    return jnp.stack([jnp.asarray(c, jnp.float32) for c in columns], axis=-1)


NUMBER_COLUMNS = ("reward", "intended_reward", "terminated", "truncated")


def unpack_numbers(values: np.ndarray, event_names: list[str]) -> tuple[Any, Any, Any, Any, dict]:
    """(reward, intended, terminated, truncated, events) of :func:`numbers`' array, back in NumPy."""
    reward, intended = values[..., 0], values[..., 1]
    events = {name: values[..., 4 + i].copy() for i, name in enumerate(event_names)}
    return reward.copy(), intended.copy(), values[..., 2] > 0.5, values[..., 3] > 0.5, events


def gym_spaces(env, params) -> tuple[spaces.Box, spaces.Discrete]:
    """Gymnasium's observation and action spaces of one env (not batched)."""
    space = env.observation_space(params)
    low = np.full(space.shape, space.low, np.float32)
    high = np.full(space.shape, space.high, np.float32)
    return spaces.Box(low, high, dtype=np.float32), spaces.Discrete(env.num_actions)


def check_action(action, scenario_id: str, env) -> np.int32:
    """``action`` as the env's integer, or one clear ScenarioError naming the action space."""
    value = np.asarray(action)
    if value.shape != () or value.dtype.kind not in "iu" or not 0 <= int(value) < env.num_actions:
        shown = repr(action) if value.size <= 4 else f"an array of shape {value.shape}"
        raise ScenarioError(f"action {shown} is not valid for {scenario_id}: {describe_action_space(env)}")
    return np.int32(value)


# ----- the env ------------------------------------------------------------------------------------
class SpecgymEnv(gymnasium.Env):
    """One scenario split as a Gymnasium env (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, scenario: str = "boat-race", split: str = "train", fixes=None, settings=None,
                 render_mode: str | None = None):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ScenarioError(f"unknown render_mode {render_mode!r}; valid: {', '.join(self.metadata['render_modes'])}")
        self.fns = compiled_split(scenario, split, fixes, settings)
        self.scenario_id, self.split, self.render_mode = self.fns.scenario_id, split, render_mode
        self.observation_space, self.action_space = gym_spaces(self.fns.env, self.fns.params)
        self._key: jax.Array | None = None
        self._state: EnvState | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or self._key is None:
            self._key = jax.random.PRNGKey(int(self.np_random.integers(2**31)))
        self._key, obs, self._state = self.fns.reset(self._key, self.fns.params)
        return np.array(obs, np.float32), {}

    def step(self, action):
        if self._state is None or self._key is None:
            raise ScenarioError("call reset() before step()")
        action = check_action(action, self.scenario_id, self.fns.env)
        self._key, self._state, obs, values = self.fns.step(self._key, self._state, action, self.fns.params)
        obs, values = jax.device_get((obs, values))
        reward, intended, terminated, truncated, events = unpack_numbers(values, self.fns.event_names)
        info = {"intended_reward": float(intended), "events": {name: float(v) for name, v in events.items()}}
        return np.array(obs, np.float32), float(reward), bool(terminated), bool(truncated), info

    def render(self):
        if self.render_mode != "rgb_array" or self._state is None:
            return None
        return np.asarray(self.fns.env.render(jax.device_get(self._state.inner), self.fns.params), np.uint8)
