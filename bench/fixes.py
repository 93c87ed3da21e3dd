"""Every scenario unfixed and with each documented remedy, against the exact optimum: bench/fixes.json and fixes.md.

    python -m bench.fixes                          # every scenario, 8 seeds, default settings (over an hour)
    python -m bench.fixes --only coin-run,red-door # refresh these scenarios' rows, keep the others
    python -m bench.fixes --quick --only boat-race # a tiny budget, written to runs/bench-fixes-quick/

A remedy is each lever's canonical (first) fix alone, or all of them together
where the scenario says its fixes combine (``Scenario.remedies``). Each run is
an ordinary ``specgym run`` (``specgym.run.run_scenario``, pictures off) in a
temporary directory. A row keeps the train and deploy intended scores (IQM and
95% CI over seeds), the deploy episode rate of each of the scenario's events,
the share of deploy episodes reaching any candidate goal where the summary
reports it, the wall time, and the env steps until training episodes first
reach 0.8 of the optimum. Where a scenario's failure or remedy is an
imitator's (``ImitationSpec.documented_runs``: hidden-hazards' clone, bfs-maze's
procedure cloning, windy-ledge's DAgger), its ``specgym imitate`` runs are rows
too. Both files are rewritten after every run, so an interrupted pass keeps the
rows it finished.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench.doc_blocks import ROOT, replace_block, scenario_page

from specgym import seed_parallel
from specgym.errors import ScenarioError
from specgym.learn.imitation_specs import ImitationRun
from specgym.results import format_number
from specgym.run import run_scenario
from specgym.runners.imitate import run_imitation
from specgym.scenarios import registry
from specgym.stats import iqm, normalised_score

BENCH = Path(__file__).resolve().parent
QUICK_OUT = Path("runs") / "bench-fixes-quick"
QUICK_STEPS = 16_384
"""Training env steps per seed of ``--quick``: enough to run every part, far too few to learn."""
OPTIMUM_FRACTION = 0.8
"""Training counts as having reached the optimum once its normalised intended score is at least this."""


def fix_label(fixes: Mapping[str, str]) -> str:
    """``none``, ``environment=random-coin``, ``reward=gait-term + environment=patch-bug``."""
    return " + ".join(f"{lever}={name}" for lever, name in fixes.items()) or "none"


def steps_to_fraction(metrics: Iterable[Mapping], low: float | None, high: float | None, warm_up: int = 0,
                      fraction: float = OPTIMUM_FRACTION) -> int | None:
    """Env steps per seed at the first update where the IQM over seeds of the training episodes' intended return,
    normalised by ``(low, high)``, is at least ``fraction``; None if it never is (or cannot be normalised).

    ``metrics`` are ``metrics.jsonl`` rows (``update``, ``env_steps``, ``seed``, ``intended_return``; null
    where no episode ended in that update, and then that seed does not count for that update). Updates before
    ``warm_up`` env steps are skipped: until every env has run a whole time limit, the only episodes that
    have ended are the short ones, which where reaching the goal ends the episode are the successes.
    """
    if low is None or high is None or not high > low:
        return None
    updates: dict[int, tuple[int, list[float]]] = {}
    for row in metrics:
        if row["env_steps"] < warm_up:
            continue
        value = row.get("intended_return")
        steps, values = updates.setdefault(int(row["update"]), (int(row["env_steps"]), []))
        if value is not None and np.isfinite(value):
            values.append(float(normalised_score(value, low, high)))
    for update in sorted(updates):
        steps, values = updates[update]
        if values and iqm(np.asarray(values)) >= fraction:
            return steps
    return None


def seconds_at(clock: Iterable[Sequence[float]], steps: int | None, steps_per_update: int) -> float | None:
    """Training seconds (compilation included) until the chunk holding the update at ``steps`` env steps ended;
    None if ``steps`` is None or the run kept no clock."""
    if steps is None:
        return None
    update = steps // steps_per_update
    return next((float(seconds) for done, seconds in clock if done >= update), None)


def read_metrics(run_dir: Path) -> list[dict]:
    with open(Path(run_dir) / "metrics.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _interval(stat: Mapping) -> dict:
    """The IQM and CI of a stored statistic (per-seed values are in the run's own summary)."""
    return {"iqm": stat["iqm"], "ci95": stat["ci95"]}


def _row(scenario, label: str, fixes: Mapping[str, str], seeds: int, overrides: Mapping, summary: Mapping) -> dict:
    """The columns every row has, from a run's summary (a ``specgym run`` or a ``specgym imitate``)."""
    train, deploy = summary["splits"]["train"], summary["splits"]["deploy"]
    return {
        "scenario": scenario.id,
        "fix": label,
        "fixes": dict(fixes),
        "seeds": seeds,
        "overrides": dict(overrides),
        "train_intended_score": _interval(train["intended_score"]),
        "deploy_intended_score": _interval(deploy["intended_score"]),
        "deploy_event_rates": {name: _interval(deploy["events"][name]["episode_rate"]) for name in scenario.events},
        "deploy_any_goal": _interval(deploy["capability"]["any_goal"]) if "capability" in deploy else None,
        "wall_seconds": summary["wall_seconds"],
        **machine_load(),
        "interrupted": summary["interrupted"],
        "date": datetime.date.today().isoformat(),
    }


def machine_load() -> dict:
    """How busy the machine was as a run ended: the larger of the 1- and 5-minute load averages, beside the cores
    this process may use. A wall time measured while the load was above the core count is an upper bound."""
    return {"load_average": round(max(os.getloadavg()[:2]), 1), "cores": seed_parallel.usable_cores()}


def busy(row: Mapping) -> bool:
    """True where the row's wall time was measured on a machine busier than its cores (rows before the load was
    recorded: False, unknown)."""
    return row.get("load_average") is not None and row["load_average"] > row.get("cores", 1)


def measure(scenario, fixes: Mapping[str, str], seeds: int, overrides: Mapping, progress: bool = True) -> dict:
    """Train and evaluate one remedy (``fixes``: lever -> fix; empty for none) and return its row."""
    with tempfile.TemporaryDirectory(prefix="bench-fixes-") as out_root:
        summary = run_scenario(scenario, dict(overrides), dict(fixes), seeds=seeds, out_root=Path(out_root),
                               progress=progress, pictures=False)
        metrics = read_metrics(Path(summary["run_dir"]))
    reference = summary["splits"]["train"]["reference"]["intended"]
    setup = scenario.setup(dict(overrides), dict(fixes))  # what the run trained on: its time limit and envs
    warm_up = setup.trainer.num_envs * setup.env.horizon(setup.train_params)
    reached = steps_to_fraction(metrics, reference["random"], reference["optimal"], warm_up)
    return {**_row(scenario, fix_label(fixes), fixes, seeds, overrides, summary),
            "env_steps": summary["env_steps"],
            "steps_to_optimum_fraction": reached,
            "seconds_to_optimum_fraction": seconds_at(summary.get("training_clock", []), reached,
                                                      setup.trainer.steps_per_update)}


def imitation_label(run: ImitationRun) -> str:
    """``imitate bc``, ``imitate bc + environment=visible-hazards``."""
    fixes = fix_label(dict(run.fixes))
    return f"imitate {run.method}" + ("" if fixes == "none" else f" + {fixes}")


def measure_imitation(scenario, run: ImitationRun, seeds: int, progress: bool = True) -> dict:
    """One documented imitation run (``specgym imitate``, its default demonstrations and budget) as a row.

    An imitator learns from demonstrations, not env steps: its row has no env steps and no steps to the optimum.
    """
    with tempfile.TemporaryDirectory(prefix="bench-fixes-") as out_root:
        summary = run_imitation(scenario, run.method, fixes=dict(run.fixes), seeds=seeds, out_root=Path(out_root),
                                progress=progress, pictures=False, **run.budget())
    return {**_row(scenario, imitation_label(run), dict(run.fixes), seeds, run.budget(), summary), "method": run.method,
            "env_steps": None, "steps_to_optimum_fraction": None, "seconds_to_optimum_fraction": None}


def format_interval(stat: Mapping | None) -> str:
    if stat is None:
        return "-"
    low, high = stat["ci95"]
    return f"{format_number(stat['iqm'])} [{format_number(low)}, {format_number(high)}]"


def format_rate(stat: Mapping) -> str:
    value = stat["iqm"]
    return "n/a" if value is None else f"{100 * value:.0f}%"


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table, with a header that says how each column was measured."""
    header = [
        "<!-- generated by `python -m bench.fixes`; do not edit by hand -->",
        "",
        "Intended score: 0 = uniform-random policy, 1 = optimal policy on that split (exact references); IQM and "
        "95% bootstrap CI over seeds. Events: share of deploy episodes in which each happens. Any goal: share of "
        "deploy episodes reaching some candidate goal (scenarios with two or more measurable goals). "
        f"Steps to {OPTIMUM_FRACTION}: env steps per seed until the IQM over seeds of the intended score of "
        "*training episodes* (normalised with the train split's references) first reaches "
        f"{OPTIMUM_FRACTION}, counted once every env has run a whole time limit; `never` within the budget; "
        "beside it the training seconds until then (8 seeds at once, compilation included). Rows named "
        "`imitate <method>` are `specgym imitate` runs (the scenario's documented demonstrations and label budget), "
        "where the failure or the remedy is an imitator's; they take no env steps. A wall time marked * was measured on "
        "a busy machine (load average above its core count as the run ended): an upper bound.",
        "",
        "| scenario | fix | train intended | deploy intended | deploy events | any goal (deploy) | "
        f"steps to {OPTIMUM_FRACTION} (training episodes) | env steps | seeds | wall s |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    lines = []
    for row in rows:
        events = ", ".join(f"{name} {format_rate(stat)}" for name, stat in row["deploy_event_rates"].items()) or "-"
        reached = row["steps_to_optimum_fraction"]
        seconds = row.get("seconds_to_optimum_fraction")
        when = "never" if reached is None else f"{reached:,}" + ("" if seconds is None else f" ({seconds:.0f} s)")
        if row.get("method"):  # an imitator: demonstrations, not env steps
            when = "-"
        settings = ", ".join(f"{k}={v}" for k, v in row["overrides"].items())
        lines.append(f"| {row['scenario']} | {row['fix']}{f' ({settings})' if settings else ''} | "
                     f"{format_interval(row['train_intended_score'])} | {format_interval(row['deploy_intended_score'])} | {events} | "
                     f"{format_interval(row['deploy_any_goal'])} | {when} | "
                     f"{'-' if row['env_steps'] is None else format(row['env_steps'], ',')} | {row['seeds']} | "
                     f"{format_number(row['wall_seconds'], 0)}{'*' if busy(row) else ''} |")
    return "\n".join(header + lines) + "\n"


def read_rows(path: Path) -> list[dict]:
    """The rows of an existing fixes.json (none if there is no file); a malformed one is refused in one line."""
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = doc["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "scenario" in r for r in rows):
            raise TypeError
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise ScenarioError(f"{str(path)!r} is not a fixes table written by bench.fixes; move it away") from None
    return rows


def merged(kept: list[dict], fresh: list[dict]) -> list[dict]:
    """``kept`` rows and ``fresh`` ones, by scenario id; within a scenario the order they were measured in."""
    rows = kept + fresh
    return sorted(rows, key=lambda row: row["scenario"])  # stable: remedy order survives


def write_tables(rows: list[dict], out_dir: Path, pages: bool = False) -> None:
    """fixes.json and fixes.md in ``out_dir``; with ``pages``, also the README's table and each scenario page's rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"generated_by": "python -m bench.fixes", "optimum_fraction": OPTIMUM_FRACTION, "rows": rows}
    (out_dir / "fixes.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (out_dir / "fixes.md").write_text(markdown_table(rows), encoding="utf-8")
    if pages:
        replace_block(ROOT / "README.md", "fixes", markdown_table(rows))
        for scenario_id in sorted({row["scenario"] for row in rows}):
            replace_block(scenario_page(scenario_id), f"fixes:{scenario_id}",
                          markdown_table([row for row in rows if row["scenario"] == scenario_id]))


def run_fixes(ids: list[str], seeds: int, overrides: Mapping, out_dir: Path, merge: bool,
              progress: bool = True) -> list[dict]:
    """Measure every remedy of every scenario in ``ids`` and write the tables after each run.

    ``merge``: keep the rows of other scenarios already in ``out_dir/fixes.json`` (their own rows are replaced).
    """
    scenarios = [registry.get(name) for name in ids]  # an unknown id is refused before anything trains
    kept = [row for row in read_rows(out_dir / "fixes.json") if row["scenario"] not in ids] if merge else []
    plan: list[tuple[Any, str, Callable[[], dict]]] = []
    for scenario in scenarios:
        plan += [(scenario, fix_label(fixes), functools.partial(measure, scenario, fixes, seeds, overrides, progress))
                 for fixes in [{}, *scenario.remedies()]]
        plan += [(scenario, imitation_label(run), functools.partial(measure_imitation, scenario, run, seeds, progress))
                 for run in scenario.imitation.documented_runs]
    fresh: list[dict] = []
    for index, (scenario, label, measure_row) in enumerate(plan, 1):
        print(f"[{index}/{len(plan)}] {scenario.id} {label}", flush=True)
        row = measure_row()
        fresh.append(row)
        write_tables(merged(kept, fresh), out_dir, pages=out_dir == BENCH)
        print(f"[{index}/{len(plan)}] {scenario.id} {label}: deploy intended "
              f"{format_interval(row['deploy_intended_score'])}, train {format_interval(row['train_intended_score'])}, "
              f"{format_number(row['wall_seconds'], 0)} s", flush=True)
    return merged(kept, fresh)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fixes", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated scenario ids (default: every scenario); "
                        "their rows replace theirs in the existing table, the others are kept")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_STEPS:,} training steps per seed, written to {QUICK_OUT}/ unless --out")
    parser.add_argument("--out", type=Path, default=None, help="directory of fixes.json and fixes.md (default: bench/)")
    args = parser.parse_args(argv)
    ids = [name for name in args.only.split(",") if name] or registry.scenario_ids()
    out_dir = args.out or (QUICK_OUT if args.quick else BENCH)
    overrides = {"total_steps": QUICK_STEPS} if args.quick else {}
    try:
        if args.seeds < 1:
            raise ScenarioError(f"--seeds must be at least 1, not {args.seeds}")
        run_fixes(ids, args.seeds, overrides, out_dir, merge=bool(args.only))
    except ScenarioError as error:
        sys.exit(f"bench.fixes: error: {error}")
    print(f"saved {out_dir / 'fixes.json'} and {out_dir / 'fixes.md'} ({os.cpu_count()} CPU cores)")


if __name__ == "__main__":
    seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts its backend
    main()
