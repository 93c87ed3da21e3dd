"""Evaluate trained policies on a split: returns, normalised scores and event counts per seed.

Scores use the exact references of ``specgym.references``: 0 is the
uniform-random policy and 1 the optimal policy for that reward on that split.
Given candidate goals, a split also reports ``capability`` (``specgym.capability``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from specgym.capability import capability_record, summarize_capability
from specgym.rollout import Act, first_episode_totals, mlp_act, returns_and_events
from specgym.stats import normalised_score, summarize


def policy_action(net, obs, key):
    """The trained (stochastic) policy's action."""
    return mlp_act(net, obs, None, key)


def evaluate_split(env, params, nets, key, references: dict, num_episodes: int = 64,
                   goals: Mapping[str, Any] | None = None) -> dict:
    """Per-seed statistics of policies ``nets`` (a batch over seeds) on one split.

    ``references`` maps "specified"/"intended" to (random, optimal) expected returns;
    ``goals`` (name -> candidate goal with a reward), where given, adds ``capability``.
    """
    return evaluate_policy(env, params, mlp_act, nets, key, references, num_episodes, goals)


def evaluate_policy(env, params, act: Act, policies, key, references: dict, num_episodes: int = 64,
                    goals: Mapping[str, Any] | None = None) -> dict:
    """``evaluate_split`` for any policy ``(act, policies)`` (a batch over seeds; see ``specgym.rollout``).

    Imitation learners (a procedure cloner, a tabular expert) are scored here, so
    every run reports in one format. The goals' rewards are recorded by another hook
    of the same loop and keys, so every other number is the same with or without them.
    """
    num_seeds = jax.tree_util.tree_leaves(policies)[0].shape[0]
    horizon = env.horizon(params)
    record = capability_record(goals) if goals else returns_and_events
    run = jax.vmap(lambda p, k: first_episode_totals(env, params, act, p, k, num_episodes, horizon, record))
    totals = jax.device_get(run(policies, jax.random.split(key, num_seeds)))
    if not goals:
        return summarize_totals(totals, references)
    totals, goal_returns = totals
    return {**summarize_totals(totals, references), "capability": summarize_capability(goal_returns, goals)}


def summarize_totals(totals: dict, references: dict) -> dict:
    """The split's statistics from per-episode sums ``{"specified", "intended", <events>}``, each (seeds, episodes).

    Every evaluator reports through it, so all runs share one format.
    """
    result = {}
    for which in ("specified", "intended"):
        returns = totals[which].mean(axis=1)
        low, high = references[which]
        result[f"{which}_return"] = summarize(returns)
        result[f"{which}_score"] = summarize(normalised_score(returns, low, high))
    event_names = [k for k in totals if k not in ("specified", "intended")]
    result["events"] = {
        name: {"per_episode": summarize(totals[name].mean(axis=1)),
               "episode_rate": summarize((totals[name] > 0).mean(axis=1))}
        for name in event_names
    }
    result["reference"] = {w: {"random": references[w][0], "optimal": references[w][1]} for w in references}
    return result
