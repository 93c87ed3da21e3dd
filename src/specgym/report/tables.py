"""The score table a run prints: specified and intended return and score per split, IQM and 95% CI, capability
(where the scenario has candidate goals to reach), events.

``specgym run``, ``imitate`` and ``rlhf`` print it from the summary they write, so it
sits below every command that prints it.
"""

from __future__ import annotations

from collections.abc import Mapping

from specgym.results import RunSummary, format_number


def format_stat(stat: Mapping, digits: int = 2) -> str:
    """IQM and 95% CI; ``n/a`` for a number the run could not measure (NaN, or null once stored)."""
    low, high = stat["ci95"]
    return f"{format_number(stat['iqm'], digits):>8s}  [{format_number(low, digits)}, {format_number(high, digits)}]"


def format_capability(capability: Mapping) -> str:
    """The share of episodes reaching any candidate goal (IQM and CI), then each goal's share."""
    shares = ", ".join(f"{name} {format_number(None if stat['iqm'] is None else 100 * stat['iqm'], 0)}%"
                       for name, stat in capability["goals"].items())
    return f"{format_stat(capability['any_goal'])}  ({shares})"


def format_table(summary: RunSummary) -> str:
    """The score table of a run's summary (``specgym run``, ``imitate`` and ``rlhf`` print it)."""
    lines = []
    fixed = ", ".join(f"{k}={v}" for k, v in summary["fixes"].items() if v) or "none"
    if "policy" in summary:  # specgym evaluate: a policy trained elsewhere, or a run's, scored again
        lines.append(f"{summary['scenario']}: {summary['policy']}, {summary['seeds']} seeds x "
                     f"{summary.get('episodes')} episodes, fixes: {fixed}")
    else:
        lines.append(f"{summary['scenario']}: {summary['seeds']} seeds x {summary['env_steps']:,} env steps, "
                     f"fixes: {fixed}" + ("  (INTERRUPTED)" if summary.get("interrupted") else ""))
    lines.append(f"specified reward: {summary['specified_reward']}")
    lines.append(f"intended reward:  {summary['intended_reward']}")
    names = [name + " /episode" for res in summary["splits"].values() for name in res["events"]]
    width = max([20, *(len(n) + 1 for n in names)])  # a long event name widens the column, never shifts it
    for split, res in summary["splits"].items():
        lines.append("")
        lines.append(f"{split:<{width + 2}s}{'IQM':>8s}  95% CI over seeds")
        for key in ("specified_return", "intended_return", "specified_score", "intended_score"):
            lines.append(f"  {key.replace('_', ' '):<{width}s}{format_stat(res[key])}")
        if "capability" in res:
            lines.append(f"  {'any goal reached':<{width}s}{format_capability(res['capability'])}")
        ordered = [e for e in summary.get("events_shown", []) if e in res["events"]]
        ordered += [e for e in res["events"] if e not in ordered]
        for name in ordered:
            ev = res["events"][name]
            rate = ev["episode_rate"]["iqm"]
            lines.append(f"  {name + ' /episode':<{width}s}{format_stat(ev['per_episode'])}"
                         f"  in {format_number(None if rate is None else 100 * rate, 0)}% of episodes")
    lines.append("")
    if "policy" in summary:
        lines.append(f"evaluated in {format_number(summary['wall_seconds'], 1)} s")
    else:
        lines.append(f"run directory: {summary['run_dir']}  ({summary['wall_seconds']:.1f} s, "
                     f"compile {summary['compile_seconds']:.1f} s)")
    return "\n".join(lines)
