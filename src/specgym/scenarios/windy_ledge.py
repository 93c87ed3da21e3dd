"""windy-ledge: compounding error of a behavioural clone, and DAgger's cure (env card in envs/hidden_hazards.py)."""

from __future__ import annotations

from specgym.envs import hidden_hazards
from specgym.envs.registry import make_splits
from specgym.learn.imitation_specs import ImitationRun, ImitationSpec
from specgym.rl.ppo import PPOConfig
from specgym.scenarios.base import Scenario, Setting, env_card, max_steps_setting

SCENARIO = Scenario(
    id="windy-ledge",
    story="Gusts push a cloned walker off the expert's line into states nobody demonstrated; it drifts on. "
          "DAgger, labelled where the learner goes, steps back.",
    card=env_card(hidden_hazards),
    build=lambda s: make_splits("windy-ledge", max_steps=s["max_steps"], gust=s["gust"]),
    trainer=PPOConfig(total_steps=300_000),
    settings={
        "max_steps": max_steps_setting(30),
        "gust": Setting(0.2, "chance per step that a gust pushes the agent one cell, in [0, 1]",
                        lambda v: isinstance(v, (int, float)) and 0 <= v <= 1),
    },
    events=("goal", "hazard"),
    candidate_goals={"goal": "walk along the ledge to the goal", "line": "repeat the expert's moves on its line"},
    readings=("002",),
    imitation=ImitationSpec(demo_episodes=64, label_budget=100, documented_runs=(ImitationRun("bc"), ImitationRun("dagger"))),
)
