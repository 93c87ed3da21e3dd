"""Every diagnosis number the docs quote, measured: bench/diagnoses.json and the docs' generated blocks.

    python -m bench.diagnoses                                  # every case (well over an hour on two cores)
    python -m bench.diagnoses --only red-door,shard-balance    # refresh these cases, keep the others
    python -m bench.diagnoses --list                           # the cases and what each one runs

A case is one ``specgym diagnose`` (``diagnose_scenario``, in a temporary directory)
with the options the docs quote, or the detector catalogue (``specgym detect``,
written to bench/detector-catalogue.json). After each case the JSON is rewritten
and every page block ``<!-- begin diagnosis:CASE -->`` (or ``detector-catalogue``)
is re-rendered from it, so a page quotes the script's output, never a copy.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench.doc_blocks import ROOT, replace_block

from specgym import seed_parallel
from specgym.applicability import is_not_applicable
from specgym.diagnose.detect import win_matrix
from specgym.errors import ScenarioError
from specgym.run_dir import dumps, write_file_atomically

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "diagnoses.json"
CATALOGUE = BENCH / "detector-catalogue.json"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@dataclasses.dataclass(frozen=True)
class Case:
    """One quoted diagnosis: the scenario and the options of ``DiagnoseConfig`` that differ from the defaults."""

    scenario: str
    options: dict = dataclasses.field(default_factory=dict)
    why: str = ""
    """What the docs quote it for."""


CASES = {
    "glitch-walker": Case("glitch-walker", {"sections": ("attribution",), "pictures": False, "seeds": 4,
                                            "eval_episodes": 16},
                          "lever attribution with two root causes (docs/diagnose.md, section 1)"),
    "red-door": Case("red-door", {"sections": ("behaviour",), "pictures": False},
                     "behavioural objective of the one-wrong-concept agent (docs/diagnose.md, red-door page)"),
    "shard-balance": Case("shard-balance", {"sections": ("behaviour",), "pictures": False},
                          "behavioural objective of the balance-of-drives agent (docs/diagnose.md, shard-balance page)"),
    "coin-run": Case("coin-run", {}, "every part of the default diagnosis, its wall time, and a detector that "
                                     "does not apply (docs/diagnose.md)"),
}
CATALOGUE_CASE = "detector-catalogue"
CATALOGUE_RUN = {"scenarios": ("boat-race", "tomato-watering", "key-door", "lego-stack", "cleaning-robot",
                               "glitch-walker", "camera-grasp", "rocks-diamonds"),
                 "overrides": {"total_steps": 100_000}, "seeds": 4, "references": ("demos", "rl")}
"""The pooled detector run docs/diagnose.md quotes (``specgym detect`` with these arguments)."""


def catalogue_command() -> str:
    run = CATALOGUE_RUN
    settings = " ".join(f"--set {k}={v}" for k, v in run["overrides"].items())
    references = " ".join(f"--reference {r}" for r in run["references"])
    return f"specgym detect {' '.join(run['scenarios'])} --seeds {run['seeds']} {settings} {references}"


def measure(name: str, progress: bool = True) -> dict:
    """Run one case and return its stored row (the diagnosis without its temporary directory)."""
    from specgym.diagnose.diagnosis import DiagnoseConfig, diagnose_scenario
    from specgym.scenarios import get

    case = CASES[name]
    config = DiagnoseConfig(**case.options)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-diagnoses-") as out:
        result = diagnose_scenario(get(case.scenario), {}, config, out_root=Path(out), progress=progress)
    result.pop("directory", None)
    result.pop("pictures", None)
    return {"case": name, "why": case.why, "parts": list(config.sections), "date": datetime.date.today().isoformat(),
            "cpu_count": os.cpu_count(),
            "load_average_before": load, "load_average_after": os.getloadavg(), "result": result}


def measure_catalogue(progress: bool = True) -> dict:
    """The detector catalogue run, written to bench/detector-catalogue.json (what its block reads)."""
    from specgym.diagnose.detector_catalogue import CatalogueDetectConfig, detect_across, save_catalogue

    run = CATALOGUE_RUN
    config = CatalogueDetectConfig(seeds=run["seeds"], references=run["references"])
    result = detect_across(list(run["scenarios"]), dict(run["overrides"]), config, progress=progress)
    result["command"] = catalogue_command()
    save_catalogue(result, CATALOGUE)
    return result


# ----- rendering -------------------------------------------------------------------------------------------
def _interval(value: float, ci, digits: int = 2) -> str:
    shown = [f"{v:.{digits}f}" for v in (value, *ci)]
    shown = ["0." + "0" * digits if float(v) == 0 else v for v in shown]  # no "-0.00"
    return f"{shown[0]} [{shown[1]}, {shown[2]}]"


def _attribution(result: dict) -> list[str]:
    att = result["attribution"]
    lines = ["| fixed levers | deploy intended | train specified | trained |", "|---|---|---|---|"]
    for row in result["combinations"]:
        d, t = row["deploy_intended_score"], row["train_specified_score"]
        trained = f"same runs as {row['shared_with']}" if row["shared_with"] else f"{row['seconds']:.0f} s"
        lines.append(f"| {row['fixed']} | {_interval(d['iqm'], d['ci95'])} | {_interval(t['iqm'], t['ci95'])} | "
                     f"{trained} |")
    lines += ["", "| lever | Shapley value [95% CI] | canonical fix |", "|---|---|---|"]
    for lever, info in att["levers"].items():
        fix = f"does not apply: {info['fix']['why']}" if is_not_applicable(info["fix"]) else f"`{info['fix']}`"
        lines.append(f"| {lever} | {_interval(info['shapley'], info['ci95'])} | {fix} |")
    for pair, stat in att["interactions"].items():
        if any(stat["per_seed"]):
            lines.append(f"| interaction {pair} | {_interval(stat['mean'], stat['ci95'])} | |")
    lines += ["", f"Verdict: {att['verdict']}."]
    return lines


def _behaviour(section: dict) -> list[str]:
    if is_not_applicable(section):
        return [f"Behavioural objective: does not apply: {section['why']}."]
    ev = section["evidence"]
    lines = [f"Behavioural objective: **{section['label']}** ({section['reason']}).", "",
             "| goal | achieved in deploy episodes [95% CI] | held-out gain over chance, nats/step [95% CI] | "
             "mixture weight |", "|---|---|---|---:|"]
    for name, c in section["candidates"].items():
        share, gain = c["achieved_share"], c["single_fit"]["heldout_gain"]
        lines.append(f"| {name}{' (intended)' if c['intended'] else ''} | {_interval(share['iqm'], share['ci95'])} | "
                     f"{_interval(gain['value'], gain['ci95'], 3)} | {c['mixture_weight']:.2f} |")
    gain = section["mixture"]["heldout_gain"]
    lines.append(f"| mixture | - | {_interval(gain['value'], gain['ci95'], 3)} | - |")
    lines += ["", f"Held out: {ev['heldout_episodes']:,} episodes ({ev['heldout_steps']:,} steps) on "
                  f"{len(ev['fit_levels'])} of {ev['levels']:,} deploy levels, {ev['seeds']} seeds; "
                  f"{section['support']:.0%} of {section['rule']['samples']:,} bootstrap draws agree with "
                  f"'{section['support_of']}'."]
    if section.get("needed"):
        lines.append(section["summary"][-1][0].upper() + section["summary"][-1][1:] + ".")
    return lines


def _detector(section: dict) -> list[str]:
    if is_not_applicable(section):
        return [f"Detector AUROC: does not apply: {section['why']}."]
    return [f"Detector: {section['summary'][0]}."]


def markdown(row: dict) -> str:
    """One case as the Markdown its blocks hold."""
    result = row["result"]
    load = row["load_average_before"][0]
    lines = [f"<!-- generated by `python -m bench.diagnoses --only {row['case']}`; do not edit by hand -->", "",
             f"`{result['command']}`: {row['date']}, {result['wall_seconds']:.0f} s wall-clock on "
             f"{row['cpu_count']} CPU cores (load {load:.1f} before it started).", ""]
    parts = row["parts"]  # what the case was run for (the attribution is always computed)
    if "attribution" in parts and "attribution" in result:
        lines += _attribution(result) + [""]
    if "behaviour" in parts and "behaviour" in result:
        lines += _behaviour(result["behaviour"]) + [""]
    if "detector" in parts and "detector" in result:
        lines += _detector(result["detector"]) + [""]
    if "goodhart" in parts and "goodhart" in result:
        lines += [f"Goodhart curve: {'; '.join(result['goodhart']['summary'])}.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(stat: dict) -> str:
    return "undefined" if stat["auroc"] is None else _interval(stat["auroc"], stat["ci95"])


def catalogue_markdown(result: dict) -> str:
    """The detector catalogue's table: per scenario and pooled, each reference's competence and both AUROCs."""
    names = result["references"]
    header = "| scenario | hacking / not | " + " | ".join(
        f"`{n}` ref. int. | AUROC JS | AUROC Hellinger" for n in names) + " | s |"
    lines = [f"<!-- generated by `python -m bench.diagnoses --only {CATALOGUE_CASE}`; do not edit by hand -->", "",
             f"`{result.get('command', catalogue_command())}`: {result['wall_seconds'] / 60:.0f} min wall-clock; "
             f"{result['seeds']} seeds per setup, the `rl` reference on {result['reference_fraction']:.0%} of the "
             "budget. Counts are hacking / not; `ref. int.` is the reference's own intended score (IQM over its "
             "seeds); AUROC [95% stratified bootstrap CI].", "",
             header, "|---|---|" + "---|---|---|" * len(names) + "---|"]
    for scenario, row in result["per_scenario"].items():
        cells = []
        for n in names:
            stats = row["by_reference"][n]
            cells += [_number(row["references"][n]["intended_score"]["iqm"]), _cell(stats["js"]),
                      _cell(stats["hellinger"])]
        lines.append(f"| {scenario} | {row['hacking']} / {row['non_hacking']} | {' | '.join(cells)} | "
                     f"{row['seconds']:.0f} |")
    pooled = result["pooled"]
    cells = []
    for n in names:
        stats = pooled["by_reference"][n]
        cells += ["", _cell(stats["js"]), _cell(stats["hellinger"])]
    lines.append(f"| **pooled** | {pooled['hacking']} / {pooled['non_hacking']} | {' | '.join(cells)} | |")
    policies = result["policies"]
    hacking = [p for p in policies if p["hacking"]]
    not_hacking = [p for p in policies if not p["hacking"]]
    wins = win_matrix(np.array([p["js"] for p in hacking]), np.array([p["js"] for p in not_hacking]))
    lines += ["", "Per scenario, the JS divergence to the detector's reference of hacking and of non-hacking "
              "policies (lowest to highest), and the non-hacking policies' intended scores: "
              + "; ".join(_ranges(policies, s) for s in result["per_scenario"]) + ".",
              "", f"Hacking policies: proxy score {_span([p['proxy_score'] for p in hacking])}, intended "
              f"{_span([p['intended_score'] for p in hacking])}. Pooled, {wins.size - wins.sum():.0f} of "
              f"{wins.size:,} hacking / non-hacking pairs are misordered by the JS divergence (ties count half)."]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-0.00", "0.00")


def _span(values: list[float]) -> str:
    return f"{_number(min(values))} to {_number(max(values))}" if values else "none"


def _ranges(policies: list[dict], scenario: str) -> str:
    mine = [p for p in policies if p["scenario"] == scenario]
    hacking = [p["js"] for p in mine if p["hacking"]]
    fine = [p for p in mine if not p["hacking"]]
    return (f"{scenario} hacking {_span(hacking)}, not {_span([p['js'] for p in fine])} "
            f"(intended {_span([p['intended_score'] for p in fine])})")


def rendered(name: str, rows: dict, catalogue: dict | None) -> str:
    """What block ``name`` holds: ``diagnosis:CASE`` or ``detector-catalogue``."""
    if name == CATALOGUE_CASE:
        if catalogue is None:
            raise ScenarioError(f"no {CATALOGUE.name} to render the {CATALOGUE_CASE} block from")
        return catalogue_markdown(catalogue)
    case = name.partition(":")[2]
    if case not in rows:
        raise ScenarioError(f"no case {case!r} in {RESULTS.name}; run python -m bench.diagnoses --only {case}")
    return markdown(rows[case])


def read_rows(path: Path = RESULTS) -> dict:
    """Stored rows by case (none if there is no file); a malformed file is refused in one line."""
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["cases"]
        if not isinstance(rows, dict) or not all(isinstance(r, dict) and "result" in r for r in rows.values()):
            raise TypeError
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise ScenarioError(f"{str(path)!r} is not a table written by bench.diagnoses; move it away") from None
    return rows


def read_catalogue(path: Path = CATALOGUE) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_pages(rows: dict, catalogue: dict | None) -> None:
    """Re-render every ``diagnosis:*`` and ``detector-catalogue`` block of README and docs."""
    from bench.doc_blocks import blocks

    for page in PAGES:
        for name in blocks(page.read_text(encoding="utf-8")):
            if name.startswith("diagnosis:") and name.partition(":")[2] in rows or \
                    name == CATALOGUE_CASE and catalogue is not None:
                replace_block(page, name, rendered(name, rows, catalogue))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.diagnoses", description=__doc__.splitlines()[0])
    cases = [*CASES, CATALOGUE_CASE]
    parser.add_argument("--only", default="", help=f"comma-separated cases (default: all): {', '.join(cases)}")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, case in CASES.items():
            print(f"{name:<16s} specgym diagnose {case.scenario} ({case.why})")
        print(f"{CATALOGUE_CASE:<16s} {catalogue_command()}")
        return
    try:
        chosen = [name for name in args.only.split(",") if name] or cases
        unknown = [name for name in chosen if name not in cases]
        if unknown:
            raise ScenarioError(f"unknown case {unknown[0]!r}; valid: {', '.join(cases)}")
        rows = read_rows()
        for name in chosen:
            print(f"bench.diagnoses: {name}", flush=True)
            if name == CATALOGUE_CASE:
                measure_catalogue()
            else:
                rows[name] = measure(name)
                write_file_atomically(RESULTS, dumps({"generated_by": "python -m bench.diagnoses", "cases": rows},
                                                     indent=2) + "\n")
            write_pages(rows, read_catalogue())
    except ScenarioError as error:
        sys.exit(f"bench.diagnoses: error: {error}")
    print(f"saved {RESULTS} and the docs' diagnosis blocks")


if __name__ == "__main__":
    seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts its backend
    main()
