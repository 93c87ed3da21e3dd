"""reward-grid: inverse RL recovers a planted reward up to shaping (env card in envs/reward_grid.py)."""

from __future__ import annotations

import jax.numpy as jnp

from specgym.envs import reward_grid
from specgym.envs.registry import make_splits
from specgym.learn.imitation_specs import ImitationSpec
from specgym.learn.maxent_irl import IRLTask, soft_demos
from specgym.rl.ppo import PPOConfig
from specgym.scenarios.base import Scenario, env_card, max_steps_setting


def agent_cell(obs):
    """Index of the demonstrator's cell in the full grid, read from the observation's agent channel."""
    inner = reward_grid.SIZE - 2
    flat = jnp.argmax(obs.reshape(inner, inner, 2)[..., 1])
    return (flat // inner + 1) * reward_grid.SIZE + flat % inner + 1


SCENARIO = Scenario(
    id="reward-grid",
    story="Inverse RL on a field with planted gardens and a swamp: the reward is recovered only up to shaping.",
    card=env_card(reward_grid),
    build=lambda s: make_splits("reward-grid", max_steps=s["max_steps"]),
    trainer=PPOConfig(total_steps=300_000),
    settings={"max_steps": max_steps_setting(30)},
    events=("garden", "swamp"),
    candidate_goals={"garden": "reach the larger garden and stay", "near_garden": "stay in the nearest garden"},
    readings=("002",),
    imitation=ImitationSpec(
        demo_episodes=64, irl=IRLTask(obs_to_state=agent_cell),
        demonstrator=lambda env, params, key, episodes, env_id: soft_demos(env, params, key, episodes, env_id=env_id)),
)
