"""Lever attribution: how much of the gap each lever's fix closes, by Shapley values.

Reading 001 argues a failure usually has several root causes at once (reward,
training environment, algorithm). Fixing one lever at a time answers "does this
fix help on its own?", which undercounts causes that only help together and
double-counts overlapping ones. Training every combination of the canonical
fixes (2^3 = 8) and averaging each lever's marginal contribution over every
order of fixing them (the Shapley value) splits the total improvement
``v(all fixes) - v(no fix)`` exactly among the levers; Harsanyi dividends of the
pairs and the triple say what only appears when levers are fixed together.

Seeds are shared across combinations (common random numbers), so every seed has
its own 8 values and its own Shapley values; the reported value is the mean over
seeds, whose bootstrap CI resamples seeds - a paired comparison. The mean (not
the IQM) is used because only the mean keeps Shapley values adding up to the
total improvement.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from specgym.applicability import not_applicable
from specgym.scenarios.base import LEVERS
from specgym.stats import bootstrap_ci

CREDIT_SHARE = 0.2
"""A lever gets credit when its CI is above zero and its value is at least this share of the total."""

LEVER_PHRASES = {
    "reward": "the specified reward",
    "environment": "the training environment",
    "algorithm": "the learning algorithm",
}


def coalitions(players=LEVERS) -> list[frozenset]:
    """Every subset of ``players``, smallest first (the order combinations are trained in)."""
    return [frozenset(c) for r in range(len(players) + 1) for c in itertools.combinations(players, r)]


def shapley_values(value: dict, players=LEVERS) -> dict:
    """Exact Shapley values from the subset formula.

    ``value`` maps every frozenset of players to a number or an array (e.g. one
    value per seed); the result keeps that shape.
    """
    n = len(players)
    out = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for r in range(n):
            weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for subset in itertools.combinations(others, r):
                s = frozenset(subset)
                total = total + weight * (np.asarray(value[s | {player}]) - np.asarray(value[s]))
        out[player] = total
    return out


def harsanyi_dividends(value: dict, players=LEVERS) -> dict:
    """Moebius inversion: d(S) = sum over T within S of (-1)^(|S|-|T|) v(T).

    d of a pair is the pair's interaction (what fixing both adds beyond each
    alone); ``v(S)`` is the sum of the dividends of the subsets of S.
    """
    out = {}
    for s in coalitions(players):
        total = 0.0
        for r in range(len(s) + 1):
            for t in itertools.combinations(sorted(s), r):
                total = total + (-1) ** (len(s) - r) * np.asarray(value[frozenset(t)])
        out[s] = total
    return out


def _stat(per_seed) -> dict:
    per_seed = np.asarray(per_seed, np.float64)
    return {"mean": float(per_seed.mean()), "ci95": list(bootstrap_ci(per_seed, statistic=np.mean)),
            "per_seed": per_seed.tolist()}


def attribute(per_seed_value: dict, fix_names: dict, players=LEVERS) -> dict:
    """Shapley values and interactions of the levers, with 95% bootstrap CIs over seeds.

    ``per_seed_value``: frozenset of fixed levers -> (seeds,) scores.
    ``fix_names``: lever -> its canonical fix, or None where the scenario has none
    (such a lever changes nothing, so its Shapley value is exactly 0, and its ``fix`` says so:
    :func:`no_fix`).
    """
    phi = shapley_values(per_seed_value, players)
    dividends = harsanyi_dividends(per_seed_value, players)
    total = np.asarray(per_seed_value[frozenset(players)]) - np.asarray(per_seed_value[frozenset()])
    levers = {}
    for lever in players:
        stat = _stat(phi[lever])
        name = fix_names.get(lever)
        levers[lever] = {"fix": name if name is not None else no_fix(lever), "noop": name is None,
                         "shapley": stat["mean"], "ci95": stat["ci95"], "per_seed": stat["per_seed"]}
    interactions = {"+".join(sorted(s, key=players.index)): _stat(d)
                    for s, d in dividends.items() if len(s) >= 2}
    # each lever twice: ``levers.<lever>`` to iterate over, ``<lever>`` for the short path ``attribution.reward.shapley``
    result = {**levers, "levers": levers, "interactions": interactions, "total": _stat(total),
              "baseline": _stat(per_seed_value[frozenset()]),
              "all_fixed": _stat(per_seed_value[frozenset(players)])}
    result["credited"] = credited_levers(result)
    result["verdict"] = verdict(result)
    return result


def no_fix(lever: str) -> dict:
    """What a lever without a documented fix holds in place of a fix name."""
    return not_applicable(f"no documented fix on the {lever} lever: fixing it changes nothing, so its Shapley "
                          "value is 0 by construction")


def credited_levers(result: dict) -> list[str]:
    """Levers whose Shapley CI lies above zero and whose share of the total is at least ``CREDIT_SHARE``."""
    total = result["total"]["mean"]
    out = []
    for lever, info in result["levers"].items():
        if info["noop"] or info["ci95"][0] <= 0:
            continue
        if total > 0 and info["shapley"] >= CREDIT_SHARE * total:
            out.append(lever)
    return sorted(out, key=lambda lever: -result["levers"][lever]["shapley"])


def verdict(result: dict) -> str:
    """One line in the reading's root-cause framing."""
    parts = []
    ranked = sorted(result["levers"], key=lambda lever: -result["levers"][lever]["shapley"])
    for lever in ranked:
        info = result["levers"][lever]
        if info["noop"]:
            parts.append(f"{lever} (no documented fix: 0 by construction)")
        else:
            low, high = info["ci95"]
            parts.append(f"{lever} {info['shapley']:.2f} [{low:.2f}, {high:.2f}]")
    credited = result["credited"]
    if not credited:
        cause = "no lever's fix reliably closes the gap at this budget"
    else:
        cause = "root cause" + ("s" if len(credited) > 1 else "") + ": " + " and ".join(
            f"{LEVER_PHRASES[lever]} (fix {result['levers'][lever]['fix']!r})" for lever in credited)
    return ", ".join(parts) + " - " + cause
