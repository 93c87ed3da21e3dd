"""Imitation timings: BC and procedure-cloning training, tabular MaxEnt IRL (medians of repeats).

Run as ``python bench/imitation.py``. The first call of each jitted function
compiles; its excess over the median of the timed repeats is reported as
``*_compile_s``, and the training times exclude it. The load average before and
after is printed because the machine may be shared; ``pc_over_bc`` and
``bc_all_rows_over_distinct`` (the same BC loss computed on every demonstrated
row instead of the distinct rows with counts) are ratios within the same run.
BC and PC are timed through ``bc.clone`` / ``clone_procedure``, the calls
``specgym imitate`` makes, so their preprocessing is included.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def timed(fn, repeats: int = 3) -> dict:
    """First call (compile + run) and the median of ``repeats`` further calls, in seconds."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"median_s": median, "compile_s": max(0.0, first - median), "repeats_s": times, "out": out}


def main(repeats: int = 3) -> dict:
    from specgym.envs.registry import make_splits
    from specgym.learn import bc, maxent_irl, procedure_cloning
    from specgym.learn import reward_distance as rd
    from specgym.learn.demos import expert_demos
    from specgym.scenarios.reward_grid import agent_cell

    load_before = os.getloadavg()
    env, splits = make_splits("bfs-maze")
    demos = expert_demos(env, splits["train"], jax.random.PRNGKey(0), 512)
    obs, actions = jnp.asarray(demos.obs), jnp.asarray(demos.actions)
    seeds = 4
    key = jax.random.PRNGKey(1)
    bc_config, pc_config = bc.BCConfig(), procedure_cloning.PCConfig()
    # what `specgym imitate` calls: distinct rows weighted by their counts
    bc_t = timed(lambda: bc.clone(bc_config, demos, 4, key, seeds)[0], repeats)
    pc_t = timed(lambda: procedure_cloning.clone_procedure(pc_config, demos, 7, 4, key, seeds)[0], repeats)
    # reference: the same BC loss on every demonstrated row
    ones = jnp.ones(actions.shape[0])
    all_rows_t = timed(lambda: bc.train_bc(bc_config, obs, actions, ones, jax.random.split(key, seeds), 4), repeats)
    distinct_bc = int(np.sum(bc.distinct_pairs(demos.obs, demos.actions)[2] > 0))

    genv, gsplits = make_splits("reward-grid")
    grid_demos = maxent_irl.soft_demos(genv, gsplits["train"], jax.random.PRNGKey(2), 128)
    next_state, planted, valid = maxent_irl.planted_model(genv, gsplits["train"])
    states = jax.vmap(agent_cell)(jnp.asarray(grid_demos.obs))
    irl_config = maxent_irl.IRLConfig()
    irl_t = timed(lambda: maxent_irl.fit_reward(irl_config, next_state, states, jnp.asarray(grid_demos.actions),
                                                valid), repeats)
    theta, losses = (np.asarray(x) for x in irl_t.pop("out"))
    # converged: the step after which the loss stays within 0.1% of its final value
    outside = np.abs(losses - losses[-1]) > 1e-3 * abs(losses[-1])
    settled = int(np.nonzero(outside)[0].max() + 1) if outside.any() else 0
    planted_theta = maxent_irl.planted_state_reward(next_state, planted)
    cells = jnp.arange(next_state.shape[0])
    epic = float(rd.epic_distance(rd.state_reward(jnp.asarray(theta), 4),
                                  rd.state_reward(jnp.asarray(planted_theta), 4), cells, irl_config.gamma))
    for t in (bc_t, pc_t, all_rows_t):
        t.pop("out")
    result = {
        "demonstrated_states": len(demos), "distinct_state_actions": distinct_bc, "demonstrated_episodes": 512,
        "seeds_vmapped": seeds,
        "bc_train_steps": bc_config.train_steps, "bc_train_s": bc_t["median_s"], "bc_compile_s": bc_t["compile_s"],
        "bc_all_rows_train_s": all_rows_t["median_s"],
        "bc_all_rows_over_distinct": all_rows_t["median_s"] / bc_t["median_s"],
        "pc_train_steps_per_network": pc_config.train_steps, "pc_train_s": pc_t["median_s"],
        "pc_compile_s": pc_t["compile_s"], "pc_over_bc": pc_t["median_s"] / bc_t["median_s"],
        "irl_grid": "10x10", "irl_demo_states": len(grid_demos), "irl_gradient_steps": irl_config.train_steps,
        "irl_soft_backups_per_step": irl_config.soft_iterations, "irl_fit_s": irl_t["median_s"],
        "irl_compile_s": irl_t["compile_s"], "irl_loss_settled_at_step": settled,
        "irl_epic_to_planted": epic,
        "repeats": {"bc": bc_t["repeats_s"], "bc_all_rows": all_rows_t["repeats_s"], "pc": pc_t["repeats_s"],
                    "irl": irl_t["repeats_s"]},
        "load_average_before": load_before, "load_average_after": os.getloadavg(), "cpus": os.cpu_count(),
        "devices": str(jax.devices()),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
