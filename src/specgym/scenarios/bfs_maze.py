"""bfs-maze: behavioural cloning vs procedure cloning on held-out mazes (env card in envs/bfs_maze.py)."""

from __future__ import annotations

from specgym.envs import bfs_maze
from specgym.envs.registry import make_splits
from specgym.learn.imitation_specs import ImitationRun, ImitationSpec
from specgym.rl.ppo import PPOConfig
from specgym.scenarios.base import Scenario, Setting, env_card, max_steps_setting, procedural_setting, seed_setting

SCENARIO = Scenario(
    id="bfs-maze",
    story="Cloned from a BFS expert, a policy solves its training mazes but few new ones; cloning the search fixes it.",
    card=env_card(bfs_maze),
    build=lambda s: make_splits("bfs-maze", num_levels=s["num_levels"], max_steps=s["max_steps"], seed=s["level_seed"],
                                procedural=s["procedural"]),
    trainer=PPOConfig(total_steps=1_000_000),
    settings={
        "num_levels": Setting(1024, "maze layouts in each split's fixed evaluation set, a positive integer",
                              lambda v: isinstance(v, int) and v > 0),
        "procedural": procedural_setting(),
        "max_steps": max_steps_setting(40),
        "level_seed": seed_setting("the maze generator"),
    },
    events=("goal",),
    candidate_goals={"goal": "walk the shortest way to the goal"},
    readings=("002",),
    imitation=ImitationSpec(demo_episodes=512, board_side=7, documented_runs=(ImitationRun("bc"), ImitationRun("pc"))),
)
