"""Throughput measurements behind ``specgym bench`` (method and results: bench/README.md).

* env steps/s of every scenario's train split at several batch sizes, random
  actions inside ``lax.scan``, observations summed into the carry so XLA cannot
  drop the work; compile time reported apart;
* PPO training steps/s on boat-race (8 seeds vmapped, compile excluded);
* ``specgym run boat-race`` wall time end to end, compilation included;
* optionally a peer in the same process (MiniGrid's Empty-8x8 through
  gymnasium, when installed) so speed-ups are ratios measured side by side.

Every number is the median of several repeats.
"""

from __future__ import annotations

import importlib
import statistics
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from specgym import seed_parallel
from specgym.envs.registry import env_ids, make
from specgym.errors import ScenarioError
from specgym.rl.ppo import PPO
from specgym.scenarios import get


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def env_throughput(env_id: str, batch: int, steps: int, repeats: int) -> dict:
    env, params = make(env_id, "train")

    def rollout(key):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, batch), params)

        def body(carry, k):
            state, acc = carry
            k_act, k_step = jax.random.split(k)
            action = jax.random.randint(k_act, (batch,), 0, env.num_actions)
            obs, state, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(jax.random.split(k_step, batch), state, action, params)
            return (state, acc + obs.sum() + out.reward.sum()), None

        (_, acc), _ = jax.lax.scan(body, (state, jnp.zeros(())), jax.random.split(key, steps))
        return acc

    compiled = jax.jit(rollout)
    first = median_seconds(lambda: compiled(jax.random.PRNGKey(0)), 1)
    seconds = median_seconds(lambda: compiled(jax.random.PRNGKey(1)), repeats)
    compile_seconds = max(0.0, first - seconds)
    return {"env": env_id, "batch": batch, "steps_per_second": batch * steps / seconds,
            "compile_seconds": compile_seconds}


def ppo_throughput(scenario_id: str, seeds: int, updates: int, repeats: int, spread_seeds: bool = True) -> dict:
    """PPO steps/s as ``specgym run`` trains; ``spread_seeds=False`` keeps every seed on one device."""
    setup = get(scenario_id).setup()
    ppo = PPO(setup.trainer, *setup.training())
    sharding = seed_parallel.seed_sharding(seeds) if spread_seeds else None
    compile_over_seeds = seed_parallel.jit_over_seeds if spread_seeds else (lambda fn, _: jax.jit(fn))
    runner = compile_over_seeds(jax.vmap(ppo.init), seeds)(jax.random.split(jax.random.PRNGKey(0), seeds))
    chunk = compile_over_seeds(jax.vmap(lambda r: ppo.run_updates(r, updates)), seeds)
    first = median_seconds(lambda: chunk(runner)[1], 1)
    seconds = median_seconds(lambda: chunk(runner)[1], repeats)
    compile_seconds = max(0.0, first - seconds)
    steps = seeds * updates * setup.trainer.steps_per_update
    return {"scenario": scenario_id, "seeds": seeds, "steps_per_second": steps / seconds,
            "devices": 1 if sharding is None else len(sharding.device_set),
            "compile_seconds": compile_seconds, "config": {"num_envs": setup.trainer.num_envs,
                                                           "num_steps": setup.trainer.num_steps,
                                                           "update_epochs": setup.trainer.update_epochs,
                                                           "hidden": list(setup.trainer.hidden)}}


def run_wall_time(scenario_id: str, repeats: int) -> dict:
    from specgym.run import run_scenario

    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            jax.clear_caches()  # each repeat pays compilation, as a fresh `specgym run` would
            start = time.perf_counter()
            run_scenario(get(scenario_id), out_root=Path(out), progress=False)
            times.append(time.perf_counter() - start)
    return {"scenario": scenario_id, "seeds": 8, "wall_seconds": statistics.median(times), "repeats": times}


def minigrid_throughput(steps: int, repeats: int) -> dict | None:
    """MiniGrid-Empty-8x8 stepped one env at a time in Python, random actions (if installed)."""
    try:  # optional extras, absent from a plain install
        gymnasium = importlib.import_module("gymnasium")
        importlib.import_module("minigrid")  # registers the MiniGrid envs with gymnasium
    except ImportError:
        return None
    env = gymnasium.make("MiniGrid-Empty-8x8-v0")
    env.reset(seed=0)

    def loop():
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()

    seconds = median_seconds(loop, repeats)
    return {"env": "MiniGrid-Empty-8x8-v0", "batch": 1, "steps_per_second": steps / seconds}


def run_benchmarks(quick: bool = False, only_envs: list[str] | None = None) -> dict:
    """All measurements; ``only_envs`` limits the env-throughput rows (boat-race is always the PPO subject)."""
    repeats = 1 if quick else 3
    batches = (1, 64) if quick else (1, 64, 1024, 4096)
    unknown = sorted(set(only_envs or []) - set(env_ids()))
    if unknown:
        raise ScenarioError(f"unknown env {unknown[0]!r}; valid: {', '.join(env_ids())}")
    envs = []
    for env_id in only_envs or env_ids():
        for batch in batches:
            steps = 200 if batch == 1 else max(50, min(1000, 2_000_000 // batch))
            envs.append(env_throughput(env_id, batch, steps, repeats))
    ppo = ppo_throughput("boat-race", seeds=8, updates=2 if quick else 10, repeats=repeats)
    ppo_one_device = (ppo_throughput("boat-race", seeds=8, updates=2 if quick else 10, repeats=repeats,
                                     spread_seeds=False) if ppo["devices"] > 1 else None)
    peer = minigrid_throughput(2_000 if quick else 20_000, repeats)
    wall = None if quick else run_wall_time("boat-race", repeats)
    lines = [f"{'env':18s}{'batch':>7s}{'steps/s':>14s}{'compile s':>11s}"]
    for row in envs:
        lines.append(f"{row['env']:18s}{row['batch']:7d}{row['steps_per_second']:14,.0f}{row['compile_seconds']:11.1f}")
    if peer:
        lines.append(f"{peer['env']:18s}{1:7d}{peer['steps_per_second']:14,.0f}  (peer, same process)")
        best = max(r["steps_per_second"] for r in envs if r["env"] == "boat-race")
        lines.append(f"boat-race best / MiniGrid: {best / peer['steps_per_second']:,.0f}x")
    lines.append(f"PPO on boat-race, {ppo['seeds']} seeds over {ppo['devices']} device(s): "
                 f"{ppo['steps_per_second']:,.0f} steps/s (compile {ppo['compile_seconds']:.1f} s)")
    if ppo_one_device:
        lines.append(f"PPO with every seed on one device: {ppo_one_device['steps_per_second']:,.0f} steps/s "
                     f"(spread over {ppo['devices']}: {ppo['steps_per_second'] / ppo_one_device['steps_per_second']:.2f}x)")
    if wall:
        lines.append(f"specgym run boat-race (8 seeds, end to end): {wall['wall_seconds']:.1f} s (median)")
    return {"env_throughput": envs, "ppo": ppo, "ppo_one_device": ppo_one_device, "peer": peer, "run_wall_time": wall,
            "device": str(jax.devices()[0]), "repeats": repeats, "table": "\n".join(lines)}
