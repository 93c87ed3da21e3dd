"""specgym scenarios as gymnax environments, for learners written against gymnax (rejax, PureJaxRL...).

``env, params = specgym.gymnax.make("boat-race", split="train")`` gives an env that subclasses the installed
gymnax's own ``Environment`` and writes only ``reset_env`` and ``step_env``, so the installed gymnax supplies
``reset``, ``step`` and the auto-reset, and with them its own step signature: ``(obs, state, reward, done,
info)`` before gymnax 1.0, ``(obs, state, reward, terminated, truncated, info)`` from 1.0 on. Before 1.0 the
env folds its time limit into ``done`` (the base class resets on it); from 1.0 on the base class asks
``is_truncated`` and the env answers with specgym's rule (time limit reached and not terminated).

``reward`` is the scenario's specified reward, the only reward a learner reads. ``info`` carries what a learner
must not train on: ``intended_reward``, ``terminated``, ``truncated``, ``events`` (name -> value) and
``final_observation`` (the observation before an auto-reset). Given the same keys, the env walks exactly the
trajectory of specgym's own ``Env.step``: ``step_env`` receives the same half of the key for the transition,
and the base class resets with the other half.

gymnax is an optional extra: ``pip install 'specgym[gymnax]'``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from specgym.envs.base import EnvState, pytree_dataclass
from specgym.errors import ScenarioError
from specgym.scenarios import get as get_scenario

try:
    from gymnax.environments import environment, spaces
except ImportError as missing:  # pragma: no cover - depends on what is installed
    raise ImportError("specgym.gymnax needs gymnax: pip install 'specgym[gymnax]'") from missing

RESETS_ON_TRUNCATION = hasattr(environment.Environment, "is_truncated")
"""gymnax 1.0 and later compute truncation in the base class and return it apart from termination."""


@pytree_dataclass
class GymnaxParams:
    """One split's params as gymnax expects them: the scenario's own params, the time limit under gymnax's name."""

    env_params: Any

    @property
    def max_steps_in_episode(self) -> jax.Array:
        """The scenario's time limit (one value, read from its params, never a copy that could disagree)."""
        return self.env_params.max_steps


class GymnaxEnv(environment.Environment):
    """A specgym env of one split behind gymnax's ``Environment`` (see the module docstring)."""

    def __init__(self, env: Any, params: Any, name: str):
        super().__init__()
        self.env = env
        self._params = GymnaxParams(params)
        self._name = name

    @property
    def default_params(self) -> GymnaxParams:  # pyright: ignore[reportIncompatibleMethodOverride]
        return self._params

    @property
    def name(self) -> str:
        return self._name

    @property
    def num_actions(self) -> int:
        return self.env.num_actions

    def reset_env(self, key: jax.Array, params: GymnaxParams):  # pyright: ignore[reportIncompatibleMethodOverride]
        inner = self.env.reset_env(key, params.env_params)
        return self.env.observe(inner, params.env_params), EnvState(inner=inner, time=jnp.asarray(0, jnp.int32))

    def step_env(self, key: jax.Array, state: EnvState, action, params: GymnaxParams):  # pyright: ignore
        native = params.env_params
        tr = self.env.transition(key, state.inner, jnp.asarray(action, jnp.int32), native)
        time = state.time + 1
        reward, intended, terminated, truncated = self.env.outcome(tr, time, native)
        obs = self.env.observe(tr.next_state, native)
        info = {"intended_reward": intended, "terminated": terminated, "truncated": truncated,
                "events": dict(tr.events), "final_observation": obs}
        done = terminated if RESETS_ON_TRUNCATION else jnp.logical_or(terminated, truncated)
        return obs, EnvState(inner=tr.next_state, time=time), reward, done, info

    def is_truncated(self, state: EnvState, params: GymnaxParams) -> jax.Array:
        """gymnax 1.0 asks this after ``step_env``: the time limit, where the episode did not end naturally."""
        ended = self.env.is_terminal(state.inner, params.env_params)
        return jnp.logical_and(state.time >= params.max_steps_in_episode, jnp.logical_not(ended))

    def is_terminal(self, state: EnvState, params: GymnaxParams) -> jax.Array:  # pyright: ignore
        return self.env.is_terminal(state.inner, params.env_params)

    def is_terminated(self, state: EnvState, params: GymnaxParams) -> jax.Array:
        return self.env.is_terminal(state.inner, params.env_params)

    def get_obs(self, state: EnvState, params: GymnaxParams | None = None, key=None) -> jax.Array:  # pyright: ignore
        return self.env.observe(state.inner, (params or self._params).env_params)

    def action_space(self, params: GymnaxParams | None = None):  # pyright: ignore[reportIncompatibleMethodOverride]
        return spaces.Discrete(self.env.num_actions)

    def observation_space(self, params: GymnaxParams | None = None):  # pyright: ignore
        space = self.env.observation_space((params or self._params).env_params)
        return spaces.Box(space.low, space.high, space.shape, space.dtype)


def make(scenario_id: str, split: str = "train", fixes: dict[str, str | None] | str | None = None,
         settings: dict[str, Any] | None = None) -> tuple[GymnaxEnv, GymnaxParams]:
    """``(env, params)`` of a scenario's split, like ``gymnax.make``.

    ``split``: ``"train"`` (what specgym's own trainer trains on) or ``"deploy"``. ``fixes``: lever -> fix name
    (or ``"lever=name"`` text); ``settings``: the scenario's settings (``max_steps`` ...).
    """
    if not isinstance(scenario_id, str):
        raise ScenarioError(f"a scenario is named by its id, not {scenario_id!r}")
    scenario = get_scenario(scenario_id)
    env, params = scenario.split_env(split, settings, fixes)
    adapter = GymnaxEnv(env, params, f"specgym/{scenario.id}")
    return adapter, adapter.default_params
