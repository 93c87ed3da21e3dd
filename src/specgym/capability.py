"""Capability beside the goal: the share of episodes that reach *some* candidate goal.

A policy whose goal misgeneralised keeps its skill and loses its goal: shown a
moved coin, it still runs cleanly to the right end. The intended score alone
cannot tell that from a policy that learned nothing; beside it, the share of
episodes that achieve any of the scenario's measurable candidate goals says
whether the agent still does something competent. A goal is achieved in an
episode when its reward, summed over the episode, is above its threshold (the
rule of ``specgym.scenarios.base.Goal``); each goal's reward is evaluated on the
very transitions the rollout took (``Env.step_transition`` replays the step's key).

Goals are read by duck typing (``reward``, ``threshold``), so this module needs
no scenario.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from specgym.rollout import StepView, returns_and_events
from specgym.stats import summarize

MIN_GOALS = 2
"""Capability is reported only with this many measurable goals: with one, it would repeat that goal's rate."""


def capability_goals(goals: Mapping[str, Any]) -> dict[str, Any]:
    """The measurable goals (those with a reward) when there are at least ``MIN_GOALS`` of them; else none."""
    measurable = {name: goal for name, goal in goals.items() if goal.reward is not None}
    return measurable if len(measurable) >= MIN_GOALS else {}


def goal_rewards_of_step(view: StepView, goal_rewards: tuple) -> jax.Array:
    """(episodes, goals): each goal's reward on the transition every env just made."""
    env, params = view.env, view.params
    transitions = jax.vmap(lambda k, s, a: env.step_transition(k, s, a, params))(view.env_keys, view.state,
                                                                                  view.action)
    return jnp.stack([jax.vmap(fn, in_axes=(0, None))(transitions, params) for fn in goal_rewards], axis=-1)


@dataclasses.dataclass(frozen=True)
class WithGoalRewards:
    """Record hook: what evaluation sums (:func:`specgym.rollout.returns_and_events`) and each goal's reward.

    A frozen dataclass, so the same goals give an equal hook and the rollout compiles once.
    """

    goal_rewards: tuple

    def __call__(self, view: StepView, _=None) -> tuple[dict, jax.Array]:
        return returns_and_events(view), goal_rewards_of_step(view, self.goal_rewards)


def capability_record(goals: Mapping[str, Any]) -> WithGoalRewards:
    """The record hook that sums ``goals``' rewards per episode beside the usual totals."""
    return WithGoalRewards(tuple(goal.reward for goal in goals.values()))


def summarize_capability(goal_returns: np.ndarray, goals: Mapping[str, Any]) -> dict:
    """``{"any_goal", "goals": {name: ...}}`` from per-episode goal returns of shape (seeds, episodes, goals).

    Each entry summarises over seeds the per-seed share of episodes achieving the goal; ``any_goal``
    counts an episode that achieves at least one of them.
    """
    thresholds = np.asarray([goal.threshold for goal in goals.values()])
    achieved = np.asarray(goal_returns) > thresholds  # (seeds, episodes, goals)
    return {"any_goal": summarize(achieved.any(axis=2).mean(axis=1)),
            "goals": {name: summarize(achieved[:, :, i].mean(axis=1)) for i, name in enumerate(goals)}}
