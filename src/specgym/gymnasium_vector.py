"""N copies of a scenario as one Gymnasium ``VectorEnv``, stepped by one ``jax.vmap``-ed call.

``gymnasium.make_vec("specgym/boat-race-v0", num_envs=64)`` (or this class directly) batches specgym's own
``Env.step``, so an env that ends resets in the same step, as specgym's trainer sees it
(``metadata["autoreset_mode"]`` is ``SAME_STEP``): the returned observation starts the next episode, and
``info["final_obs"]`` holds the last observation of the one that ended where ``info["_final_obs"]`` is true.
``info["intended_reward"]`` and ``info["events"]`` carry what a learner must not train on.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from specgym.errors import ScenarioError
from specgym.gymnasium import compiled_split, gym_spaces, unpack_numbers
from specgym.policies import describe_action_space


class SpecgymVectorEnv(VectorEnv):
    """``num_envs`` envs of one scenario split, stepped together (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 1, scenario: str = "boat-race", split: str = "train", fixes=None,
                 settings=None, render_mode: str | None = None):
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ScenarioError(f"num_envs must be a positive integer, not {num_envs!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ScenarioError(f"unknown render_mode {render_mode!r}; valid: rgb_array")
        self.fns = compiled_split(scenario, split, fixes, settings)
        self.num_envs, self.render_mode, self.split = num_envs, render_mode, split
        self.single_observation_space, self.single_action_space = gym_spaces(self.fns.env, self.fns.params)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._key: jax.Array | None = None
        self._states: Any = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ScenarioError(f"reset takes one integer seed for the whole batch, not {seed!r}")
        if seed is not None or self._key is None:
            self._np_random, self._np_random_seed = seeding.np_random(None if seed is None else int(seed))
            self._key = jax.random.PRNGKey(int(self._np_random.integers(2**31)))
        self._key, obs, self._states = self.fns.vector_reset(self._key, self.fns.params, self.num_envs)
        return np.array(obs, np.float32), {}

    def step(self, actions):
        if self._states is None or self._key is None:
            raise ScenarioError("call reset() before step()")
        actions = self._check(actions)
        self._key, self._states, both, values = self.fns.vector_step(self._key, self._states, actions,
                                                                     self.fns.params)
        both, values = jax.device_get((both, values))
        reward, intended, terminated, truncated, events = unpack_numbers(values, self.fns.event_names)
        everywhere = np.ones(self.num_envs, bool)
        info = {"intended_reward": intended, "_intended_reward": everywhere, "events": events,
                "_events": everywhere.copy(), "final_obs": both[:, 1].copy(), "_final_obs": terminated | truncated}
        return both[:, 0].copy(), reward, terminated, truncated, info

    def _check(self, actions) -> np.ndarray:
        """The batch of actions as int32, or one clear ScenarioError naming the action space."""
        values = np.asarray(actions)
        ok = values.shape == (self.num_envs,) and values.dtype.kind in "iu"
        if not ok or values.min() < 0 or values.max() >= self.fns.env.num_actions:
            what = f"shape {values.shape}, dtype {values.dtype}"
            raise ScenarioError(f"actions ({what}) are not {self.num_envs} valid actions for {self.fns.scenario_id}: "
                                f"{describe_action_space(self.fns.env)}")
        return values.astype(np.int32)

    def render(self):
        if self.render_mode != "rgb_array" or self._states is None:
            return None
        inner = jax.device_get(self._states.inner)
        pick = lambda i: jax.tree_util.tree_map(lambda x: x[i], inner)
        return tuple(np.asarray(self.fns.env.render(pick(i), self.fns.params), np.uint8) for i in range(self.num_envs))
