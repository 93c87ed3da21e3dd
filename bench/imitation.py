"""Imitation timings: BC and procedure-cloning training, tabular MaxEnt IRL (medians of repeats).

Run as ``python bench/imitation.py``. Each timing excludes compilation (a first
call is made and discarded); ratios are taken within the same run.
"""

from __future__ import annotations

import json
import statistics
import time

import jax
import jax.numpy as jnp


def median_seconds(fn, repeats: int = 3) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict:
    from specgym.envs.registry import make_splits
    from specgym.learn import bc, maxent_irl, procedure_cloning
    from specgym.learn.demos import expert_demos

    env, splits = make_splits("bfs-maze")
    demos = expert_demos(env, splits["train"], jax.random.PRNGKey(0), 512)
    obs, actions = jnp.asarray(demos.obs), jnp.asarray(demos.actions)
    keys = jax.random.split(jax.random.PRNGKey(1), 4)
    ones = jnp.ones(actions.shape[0])
    bc_s = median_seconds(lambda: bc.train_bc(bc.BCConfig(), obs, actions, ones, keys, 4))
    pc_config = procedure_cloning.PCConfig()
    first = jnp.asarray(demos.obs[demos.steps == 0][: pc_config.trace_mazes])
    pc_s = median_seconds(lambda: procedure_cloning.train_pc(pc_config, obs, actions, first, keys, 7, 4))

    genv, gsplits = make_splits("reward-grid")
    grid_demos = maxent_irl.soft_demos(genv, gsplits["train"], jax.random.PRNGKey(2), 128)
    next_state, _, valid = maxent_irl.planted_model(genv, gsplits["train"])
    from specgym.scenarios.reward_grid import agent_cell
    states = jax.vmap(agent_cell)(jnp.asarray(grid_demos.obs))
    irl_s = median_seconds(lambda: maxent_irl.fit_reward(maxent_irl.IRLConfig(), next_state, states,
                                                         jnp.asarray(grid_demos.actions), valid))
    result = {"demonstrated_states_maze": len(demos), "bc_train_4_seeds_s": bc_s, "pc_train_4_seeds_s": pc_s,
              "pc_over_bc": pc_s / bc_s, "irl_fit_10x10_s": irl_s, "irl_demo_states": len(grid_demos),
              "devices": str(jax.devices())}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
