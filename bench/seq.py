"""Speed of the sequence RLHF lab (specgym.seq).

    python bench/seq.py           # kernels (median of repeats) + the default overoptimisation run once
    python bench/seq.py --quick   # kernels only

Measured, each a ratio against a reference in the same run:

- **sampling**: 4096 sequences from the GRU policy in one jitted ``lax.scan``,
  against the same policy stepped word by word from Python (one jitted cell call
  per word), sequences/s;
- **PPO, vmapped**: 12 PPO runs (3 proxy settings x 4 seeds, the overoptimisation
  shape) as one compiled vmapped call, against one run alone: the ratio says how
  much of the 12-fold work the vmap absorbs;
- **overoptimisation end to end**: ``run_overoptimization`` at its defaults with a
  warm pretraining cache, wall and CPU seconds (CPU / wall > 1 means both cores
  were used).

Compilation is timed apart. Results are printed as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from specgym.benchmark import median_seconds
from specgym.seq import policy as pol
from specgym.seq.gold import Gold
from specgym.seq.overoptimization import OveroptimizationConfig, run_overoptimization
from specgym.seq.ppo_kl import PPOTrainer, SeqPPOConfig
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import init_reward_model, reward_model_score
from specgym.seq.world import World


def sampling(params: dict, world: World, count: int = 4096, repeats: int = 5) -> dict:
    fast = jax.jit(lambda k: pol.sample(params, k, pol.prefixes(world.bos, count), world.length))
    cell = jax.jit(lambda state, token: pol.gru_cell(params, state, token))
    head = jax.jit(lambda state, k: jax.random.categorical(k, state @ params["out_w"] + params["out_b"]))

    def python_loop(key):
        state, token = jnp.zeros((count, params["wh"].shape[0])), pol.prefixes(world.bos, count)
        for k in jax.random.split(key, world.length):
            state = cell(state, token)
            token = head(state, k)
        return token

    start = time.perf_counter()
    jax.block_until_ready(fast(jax.random.PRNGKey(0)))
    compile_s = time.perf_counter() - start
    jax.block_until_ready(python_loop(jax.random.PRNGKey(0)))
    t_fast = median_seconds(lambda: fast(jax.random.PRNGKey(1)), repeats)
    t_loop = median_seconds(lambda: python_loop(jax.random.PRNGKey(1)), repeats)
    return {"sequences_per_s_scan": count / t_fast, "sequences_per_s_python_loop": count / t_loop,
            "ratio": t_loop / t_fast, "compile_seconds": compile_s}


def ppo_vmap(params: dict, world: World, runs: int = 12, updates: int = 5, repeats: int = 3) -> dict:
    trainer = PPOTrainer(world, Gold(), SeqPPOConfig(kl_coef=0.0), reward_model_score)
    rms = jax.vmap(lambda k: init_reward_model(k, world, 32))(jax.random.split(jax.random.PRNGKey(2), runs))
    runners = jax.vmap(lambda k: trainer.init(k, params))(jax.random.split(jax.random.PRNGKey(3), runs))
    many = jax.jit(jax.vmap(lambda r, rm: trainer.run(r, params, rm, updates)[1]["gold"]))
    one = jax.jit(lambda r, rm: trainer.run(r, params, rm, updates)[1]["gold"])
    first = (jax.tree.map(lambda x: x[0], runners), jax.tree.map(lambda x: x[0], rms))
    start = time.perf_counter()
    jax.block_until_ready(many(runners, rms))
    compile_many = time.perf_counter() - start
    jax.block_until_ready(one(*first))
    t_many = median_seconds(lambda: many(runners, rms), repeats)
    t_one = median_seconds(lambda: one(*first), repeats)
    return {"runs": runs, "updates": updates, "seconds_vmapped": t_many, "seconds_one_run": t_one,
            "run_updates_per_s_vmapped": runs * updates / t_many, "run_updates_per_s_one": updates / t_one,
            "speedup_over_sequential": runs * t_one / t_many, "compile_seconds_vmapped": compile_many}


def overoptimization_end_to_end(cache: Path) -> dict:
    cfg = OveroptimizationConfig()
    reference_policy(cfg.world, cfg.pretrain, 0, cache)  # warm cache: time the experiment, not pretraining
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run_overoptimization(cfg, 0, cache, progress=False)
    return {"wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
            "phases": summary["timings"]}


if __name__ == "__main__":
    world = World()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        reference, _ = reference_policy(world, PretrainConfig(), 0, cache)
        results = {"sampling": sampling(reference, world), "ppo_vmap": ppo_vmap(reference, world)}
        if "--quick" not in sys.argv:
            results["overoptimization"] = overoptimization_end_to_end(cache)
    print(json.dumps(results, indent=2))
