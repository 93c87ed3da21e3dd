"""The grid envs' behaviour, pinned: random-action rollouts on both splits must reproduce recorded digests.

Speed work rewrites how an env computes its step (what it gathers, how it builds the
observation) without changing what the step returns. This test holds it to that: for
every grid env (and a few settings that take other paths), a fixed batch of random-action rollouts on the train and the deploy
split (long enough to hit the time limit and auto-reset) is hashed field by field
(observations, final observations, specified and intended rewards, terminations,
truncations, every event, every state leaf), and each digest must equal the one in
``env_trajectories.json``, recorded from the code before the rewrite.

A rule change is meant to change a digest. After one made on purpose, re-record with
``python tests/test_env_trajectories.py [case...]`` and say why in the commit. A changed level
set (a new maze generator, say) also changes them: the ``params`` digest says so.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from specgym.envs.registry import SPLITS, make_splits

RECORD = Path(__file__).with_name("env_trajectories.json")
GRID_ENVS = ("bfs-maze", "boat-race", "cheese-corner", "cleaning-robot", "coin-run", "hidden-hazards", "key-door",
             "red-door", "reward-grid", "rocks-diamonds", "shard-balance", "tomato-watering", "tree-harvest",
             "unused-shortcut", "windy-ledge")
VARIANTS = {  # settings that take other paths through the observation than the registered defaults
    "hidden-hazards hazards_visible": ("hidden-hazards", {"hazards_visible": True}),
    "red-door type_sight=None varied_colours": ("red-door", {"type_sight": None, "varied_colours": True}),
    "rocks-diamonds no tampering": ("rocks-diamonds", {"tampering": False}),
}
CASES = {**{env_id: (env_id, {}) for env_id in GRID_ENVS}, **VARIANTS}
NUM_ENVS = 16


def digest(value) -> str:
    array = np.ascontiguousarray(np.asarray(value))
    text = f"{array.dtype}{array.shape}".encode() + array.tobytes()
    return hashlib.sha256(text).hexdigest()[:16]


def leaves(prefix: str, tree) -> dict[str, object]:
    """Every leaf of a pytree, named by its path."""
    return {prefix + jax.tree_util.keystr(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(tree)}


def rollout(env, params, key):
    """What ``step`` returned along a batch of random-action rollouts, and the states it passed through."""
    steps = 2 * int(params.max_steps) + 3

    def run(params, key):
        k_reset, k_run = jax.random.split(key)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, NUM_ENVS), params)

        def body(state, k):
            k_act, k_step = jax.random.split(k)
            action = jax.random.randint(k_act, (NUM_ENVS,), 0, env.num_actions)
            keys = jax.random.split(k_step, NUM_ENVS)
            obs, state, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, action, params)
            return state, (obs, state, out)

        return obs, state, jax.lax.scan(body, state, jax.random.split(k_run, steps))[1]

    return jax.jit(run)(params, key)


def trajectory_digests(case: str) -> dict[str, dict[str, str]]:
    env_id, settings = CASES[case]
    env, splits = make_splits(env_id, **settings)
    out = {}
    for split in SPLITS:
        params = splits[split]
        obs0, state0, (obs, state, step) = rollout(env, params, jax.random.PRNGKey(7))
        fields = {"params": jax.tree_util.tree_leaves(params), "reset_obs": obs0, "obs": obs,
                  "final_obs": step.info.final_obs, "level": step.info.level, "reward": step.reward,
                  "true_reward": step.true_reward, "terminated": step.terminated, "truncated": step.truncated,
                  **leaves("reset_state", state0), **leaves("state", state),
                  **{f"event {name}": value for name, value in step.info.events.items()}}
        out[split] = {name: digest("".join(map(digest, value)) if name == "params" else value)
                      for name, value in fields.items()}
    return out


@pytest.mark.parametrize("env_id", CASES)
def test_rollouts_match_the_recorded_ones(env_id):
    recorded = json.loads(RECORD.read_text())[env_id]
    now = trajectory_digests(env_id)
    for split in SPLITS:
        assert now[split]["params"] == recorded[split]["params"], (
            f"{env_id} {split}: the level set itself changed (params digest); re-record if that was meant")
        changed = sorted(name for name in recorded[split] if now[split].get(name) != recorded[split][name])
        assert set(now[split]) == set(recorded[split]), f"{env_id} {split}: fields differ from the record"
        assert not changed, f"{env_id} {split}: the rollout changed in {', '.join(changed)}"


if __name__ == "__main__":
    only = sys.argv[1:] or CASES
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    for env_id in only:
        record[env_id] = trajectory_digests(env_id)
        print(f"recorded {env_id}")
    RECORD.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n")
