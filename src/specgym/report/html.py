"""One self-contained HTML page per run or diagnosis directory.

Everything the page shows is inside the file: pictures are base64 data URIs and
the style is inline, so the page opens offline, can be mailed, and never asks
the network for anything. The page tells the scenario's story, shows the agent
(GIFs of train and deploy episodes, gamed next to fixed for a diagnosis), where
it goes (state-visitation heatmaps), how specified and intended return moved
during training, the lever attribution with its CIs, the behaviour verdict,
the hacking detector and the Goodhart curve, and ends with the exact command
that reproduces it.
"""

from __future__ import annotations

import base64
import dataclasses
import html
from collections.abc import Mapping
from pathlib import Path

from specgym.applicability import is_not_applicable, number_or_why
from specgym.errors import ScenarioError
from specgym.results import RunConfig, RunSummary, format_number, read_diagnosis, read_run_config, read_run_summary
from specgym.run_dir import write_file_atomically
from specgym.scenarios import get

MIME = {".png": "image/png", ".gif": "image/gif"}
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.story{font-size:1.1em;color:#444}.verdict{background:#f3f6fb;border-left:4px solid #3a6ea5;padding:.6em 1em}
.pair{display:flex;flex-wrap:wrap;gap:1em}.pair figure{margin:0}figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}code{background:#f2f2f2;padding:0 .2em}
img{max-width:100%;image-rendering:pixelated}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _image(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:{MIME[path.suffix]};base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _images(directory: Path, items: list[tuple[str, str]]) -> str:
    """A row of the pictures that exist; a note for those that do not."""
    present = [_image(directory / name, caption) for name, caption in items if (directory / name).is_file()]
    missing = [name for name, _ in items if not (directory / name).is_file()]
    note = f'<p class="note">not in this directory: {_e(", ".join(missing))}</p>' if missing else ""
    return (f'<div class="pair">{"".join(present)}</div>' if present else "") + note


def _stat(stat: Mapping) -> str:
    value = stat.get("iqm", stat.get("mean"))
    low, high = stat["ci95"]
    return f"{format_number(value)} [{format_number(low)}, {format_number(high)}]"


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _story(scenario_id: str) -> str:
    try:
        scenario = get(scenario_id)
    except ScenarioError:
        return f"<p>scenario {_e(scenario_id)} is not installed here; its story is not shown.</p>"
    return f'<p class="story">{_e(scenario.story)}</p><details><summary>env card</summary><pre>{_e(scenario.card)}</pre></details>'


def run_command(config: RunConfig) -> str:
    """``specgym run`` line that reproduces a run directory's ``config.json``."""
    parts = ["specgym", "run", config["scenario"], "--seeds", str(config["seeds"]), "--seed", str(config["seed"]),
             "--eval-episodes", str(config.get("eval_episodes", 64))]
    for lever, name in config.get("fixes", {}).items():
        if name:
            parts += ["--fix", f"{lever}={name}"]
    try:
        scenario = get(config["scenario"])
        defaults = {**scenario.resolve_settings({}), **dataclasses.asdict(scenario.trainer)}
    except ScenarioError:
        defaults = {}
    for name, value in config.get("settings", {}).items():
        default = defaults.get(name)
        if isinstance(default, tuple):
            default = list(default)
        if name in defaults and value != default and not isinstance(value, (list, tuple)):
            parts += ["--set", f"{name}={value}"]
    return " ".join(parts)


def _run_sections(directory: Path, summary: RunSummary) -> list[str]:
    rows = []
    for split, res in summary["splits"].items():
        for key in ("specified_score", "intended_score"):
            rows.append([split, key.replace("_", " "), _stat(res[key])])
        for event, stats in res["events"].items():
            rows.append([split, f"{event} per episode", _stat(stats["per_episode"])])
    return [
        "<h2>Scores (IQM and 95% CI over seeds; 0 random, 1 optimal)</h2>",
        _table(["split", "measure", "value"], rows),
        f"<p>specified reward: <code>{_e(summary['specified_reward'])}</code>; intended reward: "
        f"<code>{_e(summary['intended_reward'])}</code></p>",
        "<h2>Episodes: train and deploy</h2>",
        _images(directory, [("train.gif", "a training level"), ("deploy.gif", "a deployment level")]),
        "<h2>Where the agents go</h2>",
        _images(directory, [("visits.png", "state visitation per split, all seeds")]),
        "<h2>Training: specified vs intended</h2>",
        _images(directory, [("curves.png", "training episodes, normalised scores per seed")]),
    ]


def _diagnosis_sections(directory: Path, result: dict) -> list[str]:
    parts = []
    att = result.get("attribution")
    if att:
        parts += ["<h2>Root causes: lever attribution</h2>", f'<p class="verdict">{_e(att["verdict"])}</p>',
                  _images(directory, [("attribution.png", "Shapley values with 95% bootstrap CIs over seeds")])]
        if att.get("levers"):
            parts.append(_table(["lever", "Shapley value (95% CI)", "canonical fix"],
                                [[lever, _stat({"mean": info["shapley"], "ci95": info["ci95"]}),
                                  number_or_why(info["fix"]) if is_not_applicable(info["fix"]) else info["fix"]]
                                 for lever, info in att["levers"].items()]))
        parts.append(_table(["fixed levers", "deploy intended score", "train specified score", "trained"],
                            [[r["fixed"], _stat(r["deploy_intended_score"]), _stat(r["train_specified_score"]),
                              "same as " + r["shared_with"] if r.get("shared_with")
                              else f"{format_number(r.get('seconds'), 0)} s"]
                             for r in result.get("combinations", [])]))
    parts += ["<h2>Episodes: gamed (no fix) and fixed (every canonical fix)</h2>",
              _images(directory, [("gamed-train.gif", "gamed, train"), ("gamed-deploy.gif", "gamed, deploy"),
                                  ("fixed-train.gif", "fixed, train"), ("fixed-deploy.gif", "fixed, deploy")]),
              "<h2>Where the agents go</h2>",
              _images(directory, [("gamed-visits.png", "gamed"), ("fixed-visits.png", "fixed")]),
              "<h2>Training: specified vs intended</h2>",
              _images(directory, [("gamed-curves.png", "gamed"), ("fixed-curves.png", "fixed")])]
    behaviour = result.get("behaviour")
    if behaviour:
        parts += ["<h2>Behavioural objective</h2>", *_behaviour(behaviour)]
    detector = result.get("detector")
    if detector:
        parts += ["<h2>Reward-hacking detector</h2>",
                  "".join(f"<p>{_e(line)}</p>" for line in detector.get("summary", []))]
    goodhart = result.get("goodhart")
    if goodhart and is_not_applicable(goodhart):
        parts += ["<h2>Goodhart curve</h2>", _does_not_apply(goodhart["why"])]
    elif goodhart:
        parts += ["<h2>Goodhart curve</h2>", "".join(f"<p>{_e(line)}</p>" for line in goodhart.get("summary", [])),
                  _images(directory, [("goodhart.png", "specified and intended score against optimisation pressure")])]
    return parts


def _does_not_apply(why: str) -> str:
    return f'<p class="verdict">does not apply: {_e(why)}</p>'


def _gain(stat: Mapping | None) -> str:
    """A held-out gain over chance with its interval (nats/step, three decimals)."""
    if not stat:
        return "n/a"
    low, high = stat["ci95"]
    return f"{format_number(stat['value'], 3)} [{format_number(low, 3)}, {format_number(high, 3)}]"


def _behaviour(behaviour: Mapping) -> list[str]:
    """The verdict, a row per candidate goal and the mixture, then the evidence and what more would settle it."""
    if is_not_applicable(behaviour):
        return [_does_not_apply(behaviour["why"])]
    summary = behaviour.get("summary") or ["(no verdict recorded)"]
    candidates = behaviour.get("candidates", {})
    rows = [[n, c["description"] + (" (intended)" if c["intended"] else ""), _stat(c["achieved_share"]),
             format_number(c.get("mixture_weight")),
             _gain(c.get("single_fit", {}).get("heldout_gain"))
             if "heldout_gain" in c.get("single_fit", {})
             else f"log-likelihood {format_number(c.get('single_fit', {}).get('heldout_loglik_per_step'), 3)}"]
            for n, c in candidates.items()]
    mixture = behaviour.get("mixture")
    if isinstance(mixture, Mapping) and "heldout_gain" in mixture:
        rows.append(["mixture", "the fitted mix of the goals above", "see the goals", "the weights above",
                     _gain(mixture["heldout_gain"])])
    table = _table(["goal", "description", "achieved (deploy)", "mixture weight",
                    "held-out gain over chance (nats/step, 95% CI)"], rows)
    evidence = summary[len(candidates) + 2:] if mixture else summary[len(candidates) + 1:]
    return [f'<p class="verdict">{_e(summary[0])}</p>', table, "".join(f"<p>{_e(line)}</p>" for line in evidence)]


def build_report(directory: Path, out: Path | None = None) -> Path:
    """Write ``report.html`` (or ``out``) for a run or diagnosis directory; returns its path."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(f"{str(directory)!r} is not a directory")
    diagnosis, summary = directory / "diagnosis.json", directory / "summary.json"
    if diagnosis.is_file():
        result = read_diagnosis(diagnosis)
        title = f"{result['scenario']}: diagnosis"
        body = _diagnosis_sections(directory, result)
        command = result["command"]
    elif summary.is_file():
        result = read_run_summary(summary)
        config = read_run_config(directory / "config.json")
        fixes = ", ".join(f"{k}={v}" for k, v in result["fixes"].items() if v) or "no fix"
        title = f"{result['scenario']}: run ({fixes})"
        body = _run_sections(directory, result)
        command = run_command(config)
    else:
        raise ScenarioError(f"{str(directory)!r} holds neither summary.json (a run) nor diagnosis.json "
                            "(a diagnosis)")
    page = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{_e(title)}</h1>", _story(result["scenario"]), *body,
            "<h2>Reproduce</h2>", f"<pre>{_e(command)}</pre>",
            f'<p class="note">from {_e(directory.resolve())}</p>', "</body></html>"]
    return write_file_atomically(Path(out) if out else directory / "report.html", "\n".join(page))
