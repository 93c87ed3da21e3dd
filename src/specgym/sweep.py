"""Run one scenario over a grid of settings and tabulate the deploy scores per value.

A sweep is just ``run_scenario`` once per combination of values (seeds vmapped
inside each run), so every point has its own ordinary run directory; the sweep
directory adds ``sweep.json`` (one row per combination) and, when a single
numeric setting varies, ``sweep.png`` (scores and event rates against it).

Every combination is validated before the first one trains, so a typo in the
last value fails in a second rather than after an hour, and a grid of more than
:data:`MAX_GRID_POINTS` combinations (each a full training run) is refused.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from pathlib import Path

from specgym.errors import ScenarioError
from specgym.results import RunSummary
from specgym.run import check_budget, run_scenario
from specgym.run_dir import RunDir
from specgym.scenarios.base import Scenario

MAX_GRID_POINTS = 256
"""The most combinations one sweep trains; a larger grid is refused before anything is built."""


def setting_grid(values: dict[str, list]) -> list[dict]:
    """Every combination of ``{name: [v1, v2, ...]}``, in the order given (last name varies fastest)."""
    for name, options in values.items():
        if not options:
            raise ScenarioError(f"--set {name}= needs at least one value")
    points = math.prod(len(options) for options in values.values())
    if points > MAX_GRID_POINTS:
        sizes = " x ".join(str(len(options)) for options in values.values())
        raise ScenarioError(f"the grid has {points:,} points ({sizes}), more than {MAX_GRID_POINTS}: "
                            f"sweep fewer values, or split the sweep")
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(values[n] for n in names))]


def _row(overrides: dict, summary: RunSummary, events: list[str]) -> dict:
    """The numbers of one grid point that a sweep table shows."""
    splits = {}
    for split, res in summary["splits"].items():
        splits[split] = {key: res[key] for key in ("specified_score", "intended_score")}
        splits[split]["event_rates"] = {e: res["events"][e]["episode_rate"] for e in events if e in res["events"]}
    return {"settings": overrides, "splits": splits, "run_dir": summary["run_dir"],
            "interrupted": summary.get("interrupted", False)}


def sweep_scenario(scenario: Scenario, values: dict[str, list], fixes: dict | None = None, seeds: int = 8,
                   seed: int = 0, out_root: Path = Path("runs"), eval_episodes: int = 64,
                   progress: bool = True, pictures: bool = False) -> dict:
    """Train and evaluate ``scenario`` at every combination of ``values``; return the sweep summary."""
    started = time.perf_counter()
    grid = setting_grid(values)
    for overrides in grid:  # fail fast on any bad name or value
        check_budget(scenario.setup(overrides, fixes or {}).trainer)
    if progress:
        print(f"{scenario.id} sweep: {len(grid)} points x {seeds} seeds", file=sys.stderr, flush=True)
    sweep_dir = RunDir.create(out_root, f"{scenario.id}-sweep")
    events = list(scenario.events)
    rows = []
    for overrides in grid:
        summary = run_scenario(scenario, overrides, fixes, seeds=seeds, seed=seed, out_root=sweep_dir.path,
                               eval_episodes=eval_episodes, progress=progress, pictures=pictures)
        rows.append(_row(overrides, summary, events))
        if summary.get("interrupted"):
            break
    result = {
        "scenario": scenario.id,
        "seeds": seeds,
        "fixes": {k: v for k, v in (fixes or {}).items() if v},
        "varied": {name: list(options) for name, options in values.items() if len(options) > 1},
        "events_shown": events,
        "rows": rows,
        "interrupted": any(r["interrupted"] for r in rows),
        "wall_seconds": time.perf_counter() - started,
        "sweep_dir": str(sweep_dir),
    }
    sweep_dir.write_json("sweep.json", result)
    numeric = [n for n, opts in result["varied"].items() if all(isinstance(v, (int, float)) for v in opts)]
    if len(result["varied"]) == 1 and numeric and len(rows) > 1:
        from specgym.report.curves import plot_sweep

        plot_sweep(result, numeric[0], sweep_dir / "sweep.png")
    return result


def format_sweep(result: dict) -> str:
    """One row per grid point: the settings, intended scores on both splits, deploy event rates."""
    names = list(result["rows"][0]["settings"]) if result["rows"] else []
    events = result["events_shown"]
    table = [[*names, "train intended", "deploy intended", *(f"deploy {e}" for e in events)]]
    for row in result["rows"]:
        cells = [str(row["settings"][n]) for n in names]
        for split in ("train", "deploy"):
            stat = row["splits"][split]["intended_score"]
            cells.append(f"{stat['iqm']:.2f} [{stat['ci95'][0]:.2f}, {stat['ci95'][1]:.2f}]")
        rates = row["splits"]["deploy"]["event_rates"]
        cells += [f"{100 * rates[e]['iqm']:.0f}%" if e in rates else "-" for e in events]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [f"{result['scenario']} sweep: {result['seeds']} seeds per point; intended score IQM [95% CI]; "
             f"deploy event columns: share of episodes with the event" + ("  (INTERRUPTED)" if result["interrupted"] else "")]
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in table]
    lines.append(f"sweep directory: {result['sweep_dir']}  ({result['wall_seconds']:.1f} s)")
    return "\n".join(lines)
