"""RLHF speed: one round of the loop, and the oracle labels-needed curve end to end.

    python bench/rlhf.py            # one-round timing (median of repeats) + the curve run
    python bench/rlhf.py --quick    # one-round timing only

A round = clips from the current policy, 50 comparisons by the oracle, a
reward-model update, and the policy's share of PPO updates on the learned
reward. Compilation is timed apart (the first round). The reference in the
same run is a plain PPO chunk with the same number of env steps on the
scenario's own reward, so the ratio says what the reward model and the
queries add. Results are printed as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from specgym import seed_parallel

seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts

import jax
import numpy as np

import specgym
from specgym.feedback import evaluators as ev
from specgym.learn import rlhf
from specgym.rl.ppo import PPO


def round_timing(scenario_id: str = "glitch-walker", seeds: int = 4, repeats: int = 3) -> dict:
    setup = specgym.get_scenario(scenario_id).setup({}, {})
    cfg = rlhf.RLHFConfig(labels=(50 * (repeats + 1),), labels_per_round=50)
    times = []
    result = {"rounds": []}

    def on_round(index, row):
        times.append(time.perf_counter())

    start = time.perf_counter()
    rlhf.train_rlhf(setup.env, setup.train_params, setup.trainer, cfg, ev.oracle(setup.env), seeds,
                    jax.random.PRNGKey(0), on_round)
    first = times[0] - start
    steady = np.diff(times)
    loop = rlhf.Loop(setup.env, setup.train_params, setup.trainer, cfg)
    ppo = PPO(setup.trainer, setup.env, setup.train_params)
    runner = seed_parallel.jit_over_seeds(jax.vmap(ppo.init), seeds)(jax.random.split(jax.random.PRNGKey(1), seeds))
    chunk = seed_parallel.jit_over_seeds(jax.vmap(lambda r: ppo.run_updates(r, loop.updates_per_round)), seeds)
    jax.block_until_ready(chunk(runner))
    ppo_times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(chunk(runner))
        ppo_times.append(time.perf_counter() - t)
    result.update({"scenario": scenario_id, "seeds": seeds, "labels_per_round": 50, "devices": len(jax.local_devices()),
                   "env_steps_per_round_per_seed": loop.updates_per_round * setup.trainer.steps_per_update,
                   "first_round_seconds_with_compile": first, "round_seconds_median": float(np.median(steady)),
                   "ppo_only_seconds_median": float(np.median(ppo_times)),
                   "round_over_ppo_only": float(np.median(steady) / np.median(ppo_times))})
    return result


def curve_timing(scenario_id: str = "glitch-walker") -> dict:
    command = [sys.executable, "-m", "specgym.cli", "rlhf", scenario_id, "--labels", "25,50,100,200,400",
               "--seeds", "4", "--baseline", "--json", "--out", "runs/bench-rlhf"]
    start = time.perf_counter()
    # timed as a first run: no compiled programs read from disk
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         env={**os.environ, "SPECGYM_NO_COMPILE_CACHE": "1"})
    summary = json.loads(out.stdout)
    return {"command": " ".join(command[2:]), "wall_seconds": time.perf_counter() - start,
            "intended_score_iqm": {b: row["intended_score"]["iqm"] for b, row in summary["rlhf"]["per_budget"].items()},
            "baseline_iqm": summary["rlhf"]["baseline"]["iqm"]}


if __name__ == "__main__":
    report = {"round": round_timing()}
    if "--quick" not in sys.argv:
        report["curve"] = curve_timing()
    print(json.dumps(report, indent=2))
