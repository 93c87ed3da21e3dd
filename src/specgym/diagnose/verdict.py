"""The behavioural-objective verdict, with its uncertainty: one goal, a mixture, or "inconclusive".

Each fitted model (every candidate goal alone, and the mixture of them) is scored
by its **gain**: held-out log-likelihood per step above the uniform-random policy's
(nats/step). A user will quote the verdict, so it is only given where the held-out
evidence carries it. Uncertainty comes from a two-stage bootstrap over the
recorded episodes (seeds resampled, then each seed's episodes), and every
comparison is *paired*: both models are scored on the same resampled episodes,
so what they share cancels.

The rule (docs/diagnose.md, "the verdict rule"), with 95% intervals:

1. Some model beats chance: its gain's interval lies above 0. Otherwise inconclusive.
2. **mixture** when the mixture's gain minus the best single goal's (taken in
   each bootstrap draw) lies above ``MARGIN``: the mixture is shown to add more
   than a negligible amount. (A mixture that adds a consistent 0.002 nats/step
   is a statistically clear but practically empty improvement: its weights
   then say little.)
3. **single goal X** (``intended`` when X is the intended goal, else ``single
   wrong goal``) when X is the best single goal, X's gain lies above 0, X minus
   every other single goal lies above 0, and the mixture adds less than
   ``MARGIN``: its gain minus X's lies below it. The mixture contains X (a corner
   of its simplex), so it can tie X but hardly lose to it; "X beats the mixture"
   therefore means "the mixture is shown to add almost nothing". Steps 2 and 3
   split the mixture's extra at the same ``MARGIN``, so at most one applies.
4. Otherwise **inconclusive**, with the contests that were not settled and an
   estimate of the held-out evidence that would settle the nearest verdict.
"""

from __future__ import annotations

import math

import numpy as np

from specgym.stats import BOOTSTRAP_SAMPLES, percentile_interval, two_stage_weights

MARGIN = 0.02
"""Nats per step: a mixture must be shown to add more than this over the best single goal to be the verdict,
and less than this for a single goal to be."""
LEVEL = 0.95
"""Confidence level of every interval the rule reads."""
UNREACHABLE = 100.0
"""An estimate of more than this many times the present evidence is reported as out of reach."""


def gain_draws(loglik, steps, num_actions: int, groups, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0):
    """Held-out gain over chance (nats/step) of each model: point estimates (M,) and bootstrap draws (samples, M).

    ``loglik`` (M, N): each model's log-likelihood of each held-out episode; ``steps`` (N,): its steps;
    ``groups`` (N,): the seed each episode came from (resampled first).
    """
    loglik = np.asarray(loglik, np.float64)
    steps = np.asarray(steps, np.float64)
    lift = loglik + steps * math.log(num_actions)  # above the uniform policy, per episode
    point = lift.sum(axis=1) / max(steps.sum(), 1.0)
    weights = two_stage_weights(groups, samples, seed)
    draws = (weights @ lift.T) / np.maximum(weights @ steps, 1.0)[:, None]
    return point, draws


def _contest(what: str, draws: np.ndarray, estimate: float, needs: str, threshold: float) -> dict:
    """One comparison the rule reads: its estimate, 95% interval and whether the interval clears the threshold."""
    low, high = percentile_interval(draws, LEVEL)
    met = bool(low > threshold) if needs == "above" else bool(high < threshold)
    return {"what": what, "estimate": float(estimate), "ci95": [float(low), float(high)], "needs": needs,
            "threshold": threshold, "met": met}


def _factor(contest: dict) -> float:
    """How many times the present evidence an unmet contest needs, if its interval shrinks as 1/sqrt(evidence).

    Infinite where the estimate lies on the wrong side of its threshold (more of the same evidence would
    settle it the other way) or on it.
    """
    if contest["met"]:
        return 1.0
    low, high = contest["ci95"]
    above = contest["needs"] == "above"
    room = contest["estimate"] - contest["threshold"] if above else contest["threshold"] - contest["estimate"]
    half = contest["estimate"] - low if above else high - contest["estimate"]
    return math.inf if room <= 1e-9 else max(1.0, (half / room) ** 2)


def decide(names: list[str], intended: list[bool], point, draws, heldout_episodes: int) -> dict:
    """The verdict from gains (point (K+1,), draws (B, K+1); the last model is the mixture) by the rule above."""
    point, draws = np.asarray(point, np.float64), np.asarray(draws, np.float64)
    k = len(names)
    best = int(np.argmax(point[:k]))
    x = names[best]
    best_per_draw = draws[:, :k].max(axis=1)
    chance = [_contest(f"{x} over chance", draws[:, best], point[best], "above", 0.0),
              _contest("mixture over chance", draws[:, k], point[k], "above", 0.0)]
    mixture = [chance[1], _contest("mixture - best single goal", draws[:, k] - best_per_draw,
                                   point[k] - point[best], "above", MARGIN)]
    single = [chance[0]]
    single += [_contest(f"{x} - {names[j]}", draws[:, best] - draws[:, j], point[best] - point[j], "above", 0.0)
               for j in range(k) if j != best]
    single.append(_contest(f"mixture - {x}", draws[:, k] - draws[:, best], point[k] - point[best], "below", MARGIN))
    beats_others = np.all(draws[:, [best]] >= draws[:, :k], axis=1)
    support = {
        "mixture": float(np.mean((draws[:, k] - best_per_draw > MARGIN) & (draws[:, k] > 0))),
        "single": float(np.mean(beats_others & (draws[:, best] > 0) & (draws[:, k] - draws[:, best] < MARGIN))),
    }
    kind = "intended" if intended[best] else "single wrong goal"
    if not (chance[0]["met"] or chance[1]["met"]):
        verdict, contests = "inconclusive", chance
    elif all(c["met"] for c in mixture):
        verdict, contests = "mixture", mixture
    elif all(c["met"] for c in single):
        verdict, contests = kind, single
    else:
        verdict, contests = "inconclusive", single + mixture[1:]
    result = {"verdict": verdict, "best_single": x, "contests": contests,
              "beats_chance": bool(chance[0]["met"] or chance[1]["met"]),
              "support": support["mixture"] if verdict == "mixture" else support["single"],
              "support_of": "mixture" if verdict == "mixture" else f"{kind}: {x}",
              "rule": {"level": LEVEL, "margin": MARGIN, "samples": int(draws.shape[0])}}
    if verdict == "inconclusive":
        result["needed"] = _needed(single, mixture, kind, x, heldout_episodes, result["beats_chance"])
    return result


def _needed(single: list[dict], mixture: list[dict], kind: str, x: str, heldout_episodes: int,
            beats_chance: bool) -> dict:
    """The nearest verdict and the held-out episodes it would need, or why more episodes would not settle it.

    A verdict needs as much evidence as its hardest open comparison (the binding one).
    """
    options = []
    for name, contests in ((f"{kind}: {x}", single), ("mixture", mixture)):
        binding = max(contests, key=_factor)
        options.append((_factor(binding), name, contests, binding))
    factor, nearest, contests, binding = min(options, key=lambda option: option[0])
    out = {"nearest": nearest, "open": [c["what"] for c in contests if not c["met"]], "binding": binding["what"]}
    if factor <= UNREACHABLE:
        return {"reachable": True, **out, "factor": factor, "heldout_episodes": int(math.ceil(factor * heldout_episodes))}
    if not beats_chance:
        why = ("no candidate goal predicts these episodes better than chance, so more of them would not make one; "
               "the policy may pursue none of the candidate goals")
    else:
        why = (f"'{nearest}' turns on {binding['what']} = {describe_gain(binding['estimate'], binding['ci95'])} "
               f"nats/step against {binding['threshold']:g}, too close to it (or on its wrong side) for more episodes "
               f"of the same levels to settle at {UNREACHABLE:.0f} times the evidence; levels on which the candidate "
               "goals lead to different actions could")
    return {"reachable": False, **out, "why": why}


def describe_gain(value: float, interval) -> str:
    """``0.063 [0.041, 0.085]``: a gain or a difference with its interval, in nats/step."""
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
