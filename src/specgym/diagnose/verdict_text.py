"""The behavioural-objective verdict in words: its label, the reason, and what more evidence would settle it.

Kept apart from the rule (``diagnose.verdict``) so the rule reads as the rule; the
sentences quote the numbers the rule read, so a reader can check it by hand.
"""

from __future__ import annotations

import math

from specgym.diagnose.verdict import MARGIN, describe_gain


def _contest_text(contest: dict) -> str:
    return f"{contest['what']} {describe_gain(contest['estimate'], contest['ci95'])}"


def verdict_sentence(result: dict) -> tuple[str, str]:
    """(label, reason) of a behaviour result (``diagnose.behaviour.explain_behaviour``)."""
    verdict, x = result["verdict"], result["best_single"]
    contests = result["contests"]
    if verdict == "mixture":
        shares = ", ".join(f"{n} {c['mixture_share']:.0%}" for n, c in result["candidates"].items()
                           if c["mixture_share"] >= 0.1)
        return f"mixture of goals: {shares}", (
            f"a mix of goals predicts held-out actions better than the best single goal ({x}) by "
            f"{describe_gain(contests[-1]['estimate'], contests[-1]['ci95'])} nats/step, more than {MARGIN}")
    if verdict in ("intended", "single wrong goal"):
        gain = result["candidates"][x]["single_fit"]["heldout_gain"]
        others = "; ".join(_contest_text(c) for c in contests[1:-1])
        return f"{verdict}: {x}", (
            f"'{x}' alone predicts held-out actions {describe_gain(gain['value'], gain['ci95'])} nats/step better "
            f"than chance; {others + '; ' if others else ''}{_contest_text(contests[-1])}, below {MARGIN}")
    if not result["beats_chance"]:
        return "inconclusive", ("no candidate goal predicts held-out actions better than chance: "
                                + "; ".join(_contest_text(c) for c in contests))
    open_ = [c for c in contests if not c["met"]]
    return "inconclusive", "not settled at 95%: " + "; ".join(_contest_text(c) for c in open_)


def needed_sentence(result: dict) -> str | None:
    """What more evidence the nearest verdict needs, in the options that collect it; None for a settled verdict."""
    needed = result.get("needed")
    if needed is None:
        return None
    if not needed["reachable"]:
        return f"more evidence: {needed['why']} (nearest verdict: {needed['nearest']})"
    evidence = result["evidence"]
    per_seed = math.ceil(2 * needed["heldout_episodes"] / max(evidence["seeds"], 1))
    return (f"more evidence: '{needed['nearest']}' would need about {needed['heldout_episodes']:,} held-out "
            f"episodes ({needed['factor']:.1f}x the {evidence['heldout_episodes']:,} now, if the intervals narrow "
            f"as one over the square root of the evidence): --behaviour-episodes {per_seed} at "
            f"{evidence['seeds']} seeds, more seeds, or more --fit-levels (each level adds fit time)")


def summary_lines(result: dict) -> list[str]:
    """The verdict line, one line per candidate goal and the mixture, the evidence, and what more is needed."""
    evidence = result["evidence"]
    lines = [f"{result['label']} ({result['reason']})"]
    for name, c in result["candidates"].items():
        gain = c["single_fit"]["heldout_gain"]
        lines.append(f"{name:<12s} achieved in {c['achieved_share']['iqm']:.0%} of {result['split']} episodes; "
                     f"alone {describe_gain(gain['value'], gain['ci95'])} nats/step over chance; "
                     f"mixture weight {c['mixture_weight']:.2f}")
    mixture = result["mixture"]["heldout_gain"]
    lines.append(f"{'mixture':<12s} {describe_gain(mixture['value'], mixture['ci95'])} nats/step over chance")
    lines.append(f"held out: {evidence['heldout_episodes']:,} episodes ({evidence['heldout_steps']:,} steps) on "
                 f"{len(evidence['fit_levels'])} of {evidence['levels']} levels, {evidence['seeds']} seeds; 95% "
                 f"intervals from {result['rule']['samples']:,} bootstrap draws (seeds, then episodes); "
                 f"{result['support']:.0%} of draws agree with '{result['support_of']}'")
    needed = needed_sentence(result)
    if needed:
        lines.append(needed)
    return lines
