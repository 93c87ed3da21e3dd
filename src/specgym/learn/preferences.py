"""Trajectory clips and the pairs of clips an evaluator compares.

A *clip* is the first ``length`` steps of one episode (Christiano et al. 2017
compare short segments; our episodes are short enough to show whole). Each
step keeps what three different readers need:

* the reward model reads ``features`` (observation before, action, observation
  after), never the state itself, so it learns only from what the policy sees;
* an evaluator reads whatever it is allowed to: the intended reward (oracle),
  or the env ``states`` through a limited view (a camera);
* the reports read ``specified`` and ``intended`` rewards.

Steps after the episode ended (the env auto-resets) are kept for fixed shapes
and marked 0 in ``mask``; every sum over a clip is a masked sum.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.base import Transition, pytree_dataclass, static_field

LEFT, RIGHT, EQUAL, CANT_TELL = 1.0, 0.0, 0.5, float("nan")
"""A preference: left better, right better, equal, or can't tell (dropped from reward-model training)."""
CHOICE_VALUES = {"left": LEFT, "right": RIGHT, "equal": EQUAL, "cant_tell": CANT_TELL}
"""The label store's choices as preference values."""


@pytree_dataclass
class Clips:
    """A batch of N clips of T steps (arrays lead with N, then T)."""

    features: Any
    """(N, T, F) float32: what the reward model reads at each step."""
    obs: Any
    """(N, T, obs_dim) float32: the observation each step was taken from."""
    actions: Any
    """(N, T) int32."""
    states: Any
    """Pytree of the env's inner state each step led to, leaves (N, T, ...); for evaluators and pictures."""
    specified: Any
    """(N, T) float32: the scenario's specified reward per step."""
    intended: Any
    """(N, T) float32: the intended reward per step."""
    mask: Any
    """(N, T) float32: 1 while the clip's episode is running, 0 after it ended."""
    ids: tuple[str, ...] = static_field(default=())
    """One id per clip (file names in a run directory)."""

    def __len__(self) -> int:
        return int(np.shape(self.mask)[0])

    def take(self, index) -> Clips:
        """The clips at ``index`` (an int array), ids included."""
        index = np.asarray(index)
        arrays = {f.name: jax.tree_util.tree_map(lambda x: np.asarray(x)[index], getattr(self, f.name))
                  for f in dataclasses.fields(self) if f.name != "ids"}
        ids = tuple(self.ids[i] for i in index) if self.ids else ()
        return Clips(**arrays, ids=ids)

    def total(self, per_step) -> np.ndarray:
        """Masked sum over each clip of a (N, T) per-step quantity."""
        return (np.asarray(per_step, np.float64) * np.asarray(self.mask)).sum(axis=1)


@dataclasses.dataclass(frozen=True)
class ClipPairs:
    """P comparisons: ``left`` and ``right`` hold P clips each, pair i is (left[i], right[i])."""

    left: Clips
    right: Clips
    pair_ids: tuple[str, ...]
    """A string id per pair (the label store's key)."""

    def __len__(self) -> int:
        return len(self.pair_ids)


# ----- recording clips from a policy ---------------------------------------------------
def step_features(env, params, tr: Transition) -> jax.Array:
    """The reward model's input for one step: obs before, one-hot action, obs after."""
    before = env.observe(tr.state, params)
    after = env.observe(tr.next_state, params)
    action = jax.nn.one_hot(tr.action, env.num_actions, dtype=jnp.float32)
    return jnp.concatenate([before, action, after]).astype(jnp.float32)


def feature_size(env, params) -> int:
    return 2 * int(env.observation_space(params).shape[0]) + env.num_actions


def record_clips(env, params, act, key, num_clips: int, length: int) -> Clips:
    """``num_clips`` clips of the first ``length`` steps of fresh episodes (jittable, no ids).

    ``act(obs, key) -> action`` is the policy (batched over clips by vmap).
    """
    k_reset, k_run = jax.random.split(key)
    inner = jax.vmap(env.reset_env, in_axes=(0, None))(jax.random.split(k_reset, num_clips), params)

    def one_step(carry, key):
        inner, alive = carry
        k_act, k_env = jax.random.split(key)
        keys_act = jax.random.split(k_act, num_clips)
        keys_env = jax.random.split(k_env, num_clips)
        obs = jax.vmap(env.observe, in_axes=(0, None))(inner, params)
        action = jax.vmap(act)(obs, keys_act)
        tr = jax.vmap(env.transition, in_axes=(0, 0, 0, None))(keys_env, inner, action, params)
        spec = jax.vmap(env.specified_reward, in_axes=(0, None))(tr, params)
        true = jax.vmap(env.intended_reward, in_axes=(0, None))(tr, params)
        feats = jax.vmap(lambda t: step_features(env, params, t))(tr)
        out = (feats, obs, action, tr.next_state, spec, true, alive.astype(jnp.float32))
        return (tr.next_state, alive & ~tr.terminated), out

    _, out = jax.lax.scan(one_step, (inner, jnp.ones(num_clips, bool)), jax.random.split(k_run, length))
    swap = lambda x: jnp.swapaxes(x, 0, 1)
    feats, obs, actions, states, spec, true, mask = jax.tree_util.tree_map(swap, out)
    return Clips(feats, obs, actions.astype(jnp.int32), states, spec, true, mask)


def to_host(clips: Clips, prefix: str) -> Clips:
    """Numpy copies with ids ``<prefix>-<i>``."""
    host = jax.device_get(dataclasses.replace(clips, ids=()))
    return dataclasses.replace(host, ids=tuple(f"{prefix}-{i}" for i in range(len(host))))


def concat(clips: list[Clips]) -> Clips:
    """One batch from several (ids concatenated too)."""
    arrays = {f.name: jax.tree_util.tree_map(lambda *xs: np.concatenate([np.asarray(x) for x in xs]),
                                             *[getattr(c, f.name) for c in clips])
              for f in dataclasses.fields(Clips) if f.name != "ids"}
    return Clips(**arrays, ids=tuple(i for c in clips for i in c.ids))


def pair_up(clips: Clips, left, right, prefix: str) -> ClipPairs:
    """Pairs (clips[left[i]], clips[right[i]]) with ids ``<prefix>-<i>``."""
    return ClipPairs(clips.take(left), clips.take(right), tuple(f"{prefix}-{i}" for i in range(len(left))))


def random_pairs(rng: np.random.Generator, num_clips: int, num_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of distinct clips drawn uniformly."""
    left = rng.integers(0, num_clips, num_pairs)
    right = (left + rng.integers(1, num_clips, num_pairs)) % num_clips
    return left, right
