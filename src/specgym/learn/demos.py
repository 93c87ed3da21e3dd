"""Expert demonstrations: the exact optimal policy of a tabular model, its rollouts, and an .npz file format.

The expert is exact: value iteration on the env's own tabular model (a small
discount makes it prefer the shortest of equally rewarded routes). It may plan
on *other* params than the learner acts in - an expert who sees hazards the
learner cannot, or who never learnt of a shortcut - because both share the
env's tabular numbering.

File format (``Demos.save``): a NumPy ``.npz`` archive, no pickle, with arrays
``obs`` (N, obs_size) float32, ``actions`` (N,) int32, ``levels`` (N,) int32,
``episodes`` (N,) int32 and ``steps`` (N,) int32 - one row per demonstrated
state-action pair, in episode order - and ``meta``, a JSON string with at least
``format`` ("specgym-demos"), ``version`` (1), ``env``, ``split``, ``expert``
and ``episodes`` (the number of demonstrated episodes).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.tabular import to_tabular
from specgym.errors import ScenarioError
from specgym.rl.value_iteration import solve
from specgym.rollout import Act, per_episode, rollout, step_trace

FORMAT, VERSION = "specgym-demos", 1
EXPERT_DISCOUNT = 0.99


def expert_q_values(env, params, reward_fn=None, discount: float = EXPERT_DISCOUNT) -> jax.Array:
    """(L, S, A) exact action values of ``reward_fn`` (default: the intended reward) on ``params``."""
    mdp = to_tabular(env, params)
    return solve(mdp, mdp.rewards(reward_fn or env.intended_reward), discount=discount).q_values


@functools.cache
def tabular_act(env) -> Act:
    """Action function of a greedy tabular policy; its ``policy_params`` is ``(q, params)``, an (L, S, A) value
    table and the params that number the states. One function per env, so rollouts compile once for it."""

    def act(policy, obs, env_state, key):
        q, params = policy
        inner = env_state.inner
        return jnp.argmax(q[env.level_of(inner), env.encode(inner, params)]).astype(jnp.int32)

    return act


@dataclasses.dataclass(frozen=True)
class Demos:
    """State-action pairs of demonstrated episodes (one row per step)."""

    obs: np.ndarray
    actions: np.ndarray
    levels: np.ndarray
    episodes: np.ndarray
    steps: np.ndarray
    meta: dict

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def save(self, path) -> Path:
        path = Path(path)
        meta = {"format": FORMAT, "version": VERSION, **self.meta}
        np.savez_compressed(path, obs=self.obs.astype(np.float32), actions=self.actions.astype(np.int32),
                            levels=self.levels.astype(np.int32), episodes=self.episodes.astype(np.int32),
                            steps=self.steps.astype(np.int32), meta=np.array(json.dumps(meta)))
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    @classmethod
    def load(cls, path) -> Demos:
        """Read a file written by ``save``; a one-line ScenarioError for anything else."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: np.asarray(data[k]) for k in ("obs", "actions", "levels", "episodes", "steps", "meta")}
        except FileNotFoundError:
            raise ScenarioError(f"no demonstrations file at {str(path)!r}") from None
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ScenarioError(f"{str(path)!r} is not a specgym demonstrations file ({error})") from None
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except json.JSONDecodeError:
            raise ScenarioError(f"{str(path)!r} has an unreadable meta record") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ScenarioError(f"{str(path)!r} is not a version-{VERSION} {FORMAT} file")
        n = arrays["actions"].shape[0]
        if any(a.shape[0] != n for a in arrays.values()) or arrays["obs"].ndim != 2:
            raise ScenarioError(f"{str(path)!r} has arrays of inconsistent length")
        return cls(**arrays, meta=meta)


def from_trace(trace: dict, meta: dict, use_labels: bool = False) -> Demos:
    """The steps of a ``rollout`` trace that belong to its first episodes, as Demos."""
    trace = jax.device_get(trace)
    alive = np.asarray(trace["alive"])  # (T, N)
    episodes, steps = np.nonzero(alive.T)  # episode by episode, steps in order
    actions = trace["label_action" if use_labels else "action"]
    pick = lambda a: np.asarray(a)[steps, episodes]
    return Demos(obs=pick(trace["obs"]).astype(np.float32), actions=pick(actions).astype(np.int32),
                 levels=pick(trace["level"]).astype(np.int32), episodes=episodes.astype(np.int32),
                 steps=steps.astype(np.int32), meta={**meta, "episodes": int(alive.shape[1])})


def concat(parts: list[Demos]) -> Demos:
    """Several demo sets as one; episode numbers stay distinct."""
    offset, episodes = 0, []
    for part in parts:
        episodes.append(part.episodes + offset)
        offset += int(part.meta.get("episodes", part.episodes.max(initial=-1) + 1))
    return Demos(obs=np.concatenate([p.obs for p in parts]), actions=np.concatenate([p.actions for p in parts]),
                 levels=np.concatenate([p.levels for p in parts]), episodes=np.concatenate(episodes),
                 steps=np.concatenate([p.steps for p in parts]), meta={**parts[0].meta, "episodes": offset})


def expert_demos(env, params, key, num_episodes: int, expert_params=None, reward_fn=None, env_id: str = "",
                 split: str = "train") -> Demos:
    """``num_episodes`` episodes of the exact expert, acting in ``params`` and planning on ``expert_params``.

    ``expert_params`` (default ``params``) is the world as the expert believes
    it to be; it must have the same tabular shape.
    """
    q = expert_q_values(env, expert_params if expert_params is not None else params, reward_fn)
    trace = rollout(env, params, per_episode(tabular_act(env)), (q, params), key, num_episodes, env.horizon(params),
                    step_trace)
    meta = {"env": env_id or env.name, "split": split, "expert": "exact optimal policy (value iteration)"}
    return from_trace(trace, meta)
