"""unused-shortcut: a clone ignores an opening its expert never used (env card in envs/hidden_hazards.py)."""

from __future__ import annotations

from specgym.envs import hidden_hazards
from specgym.envs.registry import make_splits
from specgym.learn.imitation_specs import ImitationRun, ImitationSpec
from specgym.rl.ppo import PPOConfig
from specgym.scenarios.base import Scenario, env_card, max_steps_setting

SCENARIO = Scenario(
    id="unused-shortcut",
    story="The expert never knew of a shortcut the imitator can see; the clone takes the detour, RL does not.",
    card=env_card(hidden_hazards),
    build=lambda s: make_splits("unused-shortcut", max_steps=s["max_steps"]),
    trainer=PPOConfig(total_steps=200_000),
    settings={"max_steps": max_steps_setting(40)},
    events=("goal", "hazard"),
    candidate_goals={"goal": "reach the goal by the shortest way", "detour": "follow the expert's detour"},
    readings=("002",),
    imitation=ImitationSpec(demo_episodes=64, expert_view=hidden_hazards.expert_view,
                            documented_runs=(ImitationRun("bc"),)),  # the remedy, RL on the intended reward, is the PPO row
)
