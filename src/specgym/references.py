"""Exact reference returns (uniform-random and optimal) that anchor every normalised score."""

from __future__ import annotations

from specgym.envs.tabular import to_tabular
from specgym.rl.value_iteration import reference_returns


def split_references(env, params) -> dict[str, tuple[float, float]]:
    """``{"specified": (random, optimal), "intended": (random, optimal)}`` for one split.

    Computed by exact finite-horizon dynamic programming on the env's tabular model.
    """
    mdp = to_tabular(env, params)
    return {
        "specified": reference_returns(mdp, mdp.rewards(env.specified_reward)),
        "intended": reference_returns(mdp, mdp.rewards(env.intended_reward)),
    }
