"""The typed documents a run directory holds, and readers that refuse a malformed one in one line.

:class:`RunSummary` is ``summary.json`` of ``specgym run`` (and the same fields
of ``specgym imitate`` and ``specgym rlhf``, which add their own); it is also
what ``specgym run --json`` prints. :class:`RunConfig` is ``config.json``.
Readers (:func:`read_run_summary`, :func:`read_run_config`,
:func:`read_diagnosis`) check every field a reader of the file relies on, so a
corrupted or hand-edited directory ends in ``specgym: error: ...`` naming the
file and the bad field, never in a traceback halfway through a report.

Numbers a run could not measure (a NaN score where the random and optimal
policies tie) are stored as ``null``, so every number below may be ``None``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from specgym.applicability import is_not_applicable
from specgym.errors import ScenarioError


class Stat(TypedDict):
    """One quantity measured once per seed (``specgym.stats.summarize``)."""

    iqm: float | None
    """Interquartile mean over seeds."""
    ci95: list[float | None]
    """[low, high]: 95% stratified-bootstrap confidence interval of the IQM."""
    per_seed: list[float | None]
    """The value of every seed, in seed order."""


class EventStats(TypedDict):
    per_episode: Stat
    """How often the event happens in an episode."""
    episode_rate: Stat
    """Share of episodes in which it happens at least once."""


class CapabilityStats(TypedDict):
    """Shares of episodes that achieve candidate goals (``specgym.capability``)."""

    any_goal: Stat
    """Share of episodes that achieve at least one measurable candidate goal: the skill, whichever goal it serves."""
    goals: dict[str, Stat]
    """Goal name -> share of episodes that achieve it."""


class SplitResult(TypedDict):
    """Evaluation of the policies on one split (``evaluation.summarize_totals``)."""

    specified_return: Stat
    intended_return: Stat
    specified_score: Stat
    """Specified return normalised: 0 the uniform-random policy, 1 the optimal one."""
    intended_score: Stat
    """Intended return normalised the same way."""
    events: dict[str, EventStats]
    """Event name -> its counts (every event the env records)."""
    reference: dict[str, dict[str, float | None]]
    """"specified" / "intended" -> {"random", "optimal"}: the expected returns the scores are normalised by."""
    capability: NotRequired[CapabilityStats]
    """Only for scenarios with at least two measurable candidate goals."""


class RunSummary(TypedDict):
    """``summary.json`` of a run directory, and ``specgym run --json``."""

    scenario: str
    """Scenario id."""
    seeds: int
    """Policies trained at once."""
    seed: int
    """Master seed."""
    env_steps: int
    """Environment steps per seed that training took."""
    wall_seconds: float | None
    """Time from start to the summary, compilation included."""
    compile_seconds: float | None
    """Of which JAX compilation (estimated)."""
    training_clock: NotRequired[list[list[float]]]
    """``[update, seconds since training started]`` after each compiled chunk of updates: when training got
    where (time-to-result benchmarks read it beside ``metrics.jsonl``)."""
    interrupted: bool
    """Ctrl-C stopped training early; the scores are of the policy trained so far."""
    fixes: dict[str, str | None]
    """Lever -> the documented fix applied (None: none)."""
    settings: dict[str, Any]
    """Every scenario setting and trainer field, as used."""
    available_fixes: dict[str, list[str]]
    """Lever -> the fixes the scenario documents."""
    specified_reward: str
    intended_reward: str
    events_shown: list[str]
    """The scenario's events of interest, shown first."""
    splits: dict[str, SplitResult]
    """"train" and "deploy" -> the evaluation on those levels."""
    run_dir: str
    """The directory the run wrote."""
    method: NotRequired[str]
    """``specgym imitate``: the imitation method."""
    demonstrated_states: NotRequired[int]
    """``specgym imitate``: states in the demonstrations."""
    method_metrics: NotRequired[dict[str, Any]]
    """``specgym imitate``: the method's own numbers."""
    rlhf: NotRequired[dict[str, Any]]
    """``specgym rlhf``: evaluator, label budgets and the per-budget scores."""
    policy: NotRequired[str]
    """``specgym evaluate``: the policy scored (a function's name, or the run whose networks they are)."""
    episodes: NotRequired[int]
    """``specgym evaluate``: episodes per seed and split."""


class RunConfig(TypedDict):
    """``config.json``: what reproduces the run."""

    scenario: str
    seeds: int
    seed: int
    fixes: dict[str, str | None]
    settings: dict[str, Any]
    eval_episodes: int


# ----- reading -----------------------------------------------------------------------------
class _Malformed(Exception):
    """A field is not what the document needs (its path and what was found)."""


def _is_number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _need(value, ok: bool, path: str, what: str) -> Any:
    if not ok:
        shown = json.dumps(value, default=repr)
        raise _Malformed(f"{path} must be {what}, not {shown if len(shown) <= 40 else shown[:37] + '...'}")
    return value


def _field(doc: dict, key: str, path: str, kind, what: str, optional: bool = False) -> Any:
    if key not in doc:
        if optional:
            return None
        raise _Malformed(f"{path}.{key} is missing" if path else f"{key!r} is missing")
    value = doc[key]
    check = _is_number(value) if kind == "number" else isinstance(value, kind) and not (
        kind is int and isinstance(value, bool))
    return _need(value, check, f"{path}.{key}" if path else key, what)


def _check_stat(stat, path: str) -> None:
    _need(stat, isinstance(stat, dict), path, "an object with iqm (or mean) and ci95")
    centre = "iqm" if "iqm" in stat or "mean" not in stat else "mean"
    _field(stat, centre, path, "number", "a number or null")
    ci = _field(stat, "ci95", path, list, "a list [low, high]")
    _need(ci, len(ci) == 2 and all(_is_number(x) for x in ci), f"{path}.ci95", "a list [low, high] of two numbers")


def _check_names(value, path: str, what: str) -> None:
    _need(value, isinstance(value, dict) and all(isinstance(v, str) or v is None for v in value.values()), path, what)


def check_run_summary(doc) -> RunSummary:
    """``doc`` as a :class:`RunSummary`, or ``_Malformed`` naming the first bad field."""
    _need(doc, isinstance(doc, dict), "the document", "an object")
    _field(doc, "scenario", "", str, "a scenario id (a string)")
    for key in ("seeds", "seed", "env_steps"):
        _field(doc, key, "", int, "an integer")
    for key in ("wall_seconds", "compile_seconds"):
        _field(doc, key, "", "number", "a number or null")
    _field(doc, "interrupted", "", bool, "true or false", optional=True)
    _check_names(_field(doc, "fixes", "", dict, "an object lever -> fix"), "fixes", "an object lever -> fix")
    _field(doc, "settings", "", dict, "an object name -> value")
    for key in ("specified_reward", "intended_reward", "run_dir"):
        _field(doc, key, "", str, "a string")
    shown = _field(doc, "events_shown", "", list, "a list of event names", optional=True) or []
    _need(shown, all(isinstance(e, str) for e in shown), "events_shown", "a list of event names")
    splits = _field(doc, "splits", "", dict, "an object split -> results")
    _need(splits, bool(splits), "splits", "an object with at least one split")
    for split, result in splits.items():
        path = f"splits.{split}"
        _need(result, isinstance(result, dict), path, "an object of results")
        for key in ("specified_return", "intended_return", "specified_score", "intended_score"):
            _check_stat(_field(result, key, path, dict, "an object with iqm and ci95"), f"{path}.{key}")
        events = _field(result, "events", path, dict, "an object event -> counts")
        for name, counts in events.items():
            _need(counts, isinstance(counts, dict), f"{path}.events.{name}", "an object")
            for key in ("per_episode", "episode_rate"):
                _check_stat(_field(counts, key, f"{path}.events.{name}", dict, "an object with iqm and ci95"),
                            f"{path}.events.{name}.{key}")
        capability = _field(result, "capability", path, dict, "an object", optional=True)
        if capability is not None:
            _check_stat(_field(capability, "any_goal", f"{path}.capability", dict, "an object with iqm and ci95"),
                        f"{path}.capability.any_goal")
            goals = _field(capability, "goals", f"{path}.capability", dict, "an object goal -> share")
            for name, stat in goals.items():
                _check_stat(stat, f"{path}.capability.goals.{name}")
    return cast(RunSummary, doc)


def check_run_config(doc) -> RunConfig:
    """``doc`` as a :class:`RunConfig`, or ``_Malformed`` naming the first bad field."""
    _need(doc, isinstance(doc, dict), "the document", "an object")
    _field(doc, "scenario", "", str, "a scenario id (a string)")
    for key in ("seeds", "seed"):
        _field(doc, key, "", int, "an integer")
    _field(doc, "eval_episodes", "", int, "an integer", optional=True)
    fixes = _field(doc, "fixes", "", dict, "an object lever -> fix", optional=True)
    if fixes is not None:
        _check_names(fixes, "fixes", "an object lever -> fix")
    _field(doc, "settings", "", dict, "an object name -> value", optional=True)
    return cast(RunConfig, doc)


def check_diagnosis(doc) -> dict[str, Any]:
    """``diagnosis.json`` with the fields the report reads checked (``_Malformed`` names the first bad one)."""
    _need(doc, isinstance(doc, dict), "the document", "an object")
    if "behavior" in doc and "behaviour" not in doc:  # written before the section took the project's spelling
        doc["behaviour"] = doc.pop("behavior")
    _field(doc, "scenario", "", str, "a scenario id (a string)")
    _field(doc, "command", "", str, "the command line (a string)")
    attribution = _field(doc, "attribution", "", dict, "an object", optional=True)
    if attribution is not None:
        _field(attribution, "verdict", "attribution", str, "a sentence (a string)")
        levers = _field(attribution, "levers", "attribution", dict, "an object lever -> Shapley value",
                        optional=True) or {}
        for lever, info in levers.items():
            path = f"attribution.levers.{lever}"
            _need(info, isinstance(info, dict), path, "an object")
            _check_stat({"mean": _field(info, "shapley", path, "number", "a number"),
                         "ci95": _field(info, "ci95", path, list, "a list [low, high]")}, path)
            fix = info.get("fix")
            _need(fix, isinstance(fix, str) or fix is None or is_not_applicable(fix), f"{path}.fix",
                  'a fix name or {"applies": false, "why": "..."}')
    rows = _field(doc, "combinations", "", list, "a list of rows", optional=True) or []
    for i, row in enumerate(rows):
        path = f"combinations[{i}]"
        _need(row, isinstance(row, dict), path, "an object")
        _field(row, "fixed", path, str, "a string")
        for key in ("deploy_intended_score", "train_specified_score"):
            _check_stat(_field(row, key, path, dict, "an object with iqm and ci95"), f"{path}.{key}")
        _need(row.get("shared_with"), isinstance(row.get("shared_with"), (str, type(None))),
              f"{path}.shared_with", "a string or null")
        _field(row, "seconds", path, "number", "a number or null", optional=True)
    for part in ("behaviour", "detector", "goodhart"):
        section = _field(doc, part, "", dict, "an object", optional=True)
        if section is None:
            continue
        lines = _field(section, "summary", part, list, "a list of sentences", optional=True) or []
        _need(lines, all(isinstance(x, str) for x in lines), f"{part}.summary", "a list of sentences")
        if section.get("applies") is False:
            _field(section, "why", part, str, "a sentence (a string)")
    behaviour = doc.get("behaviour") or {}
    candidates = _field(behaviour, "candidates", "behaviour", dict, "an object", optional=True) or {}
    for name, c in candidates.items():
        path = f"behaviour.candidates.{name}"
        _need(c, isinstance(c, dict), path, "an object")
        _field(c, "description", path, str, "a string")
        _field(c, "intended", path, bool, "true or false")
        _check_stat(_field(c, "achieved_share", path, dict, "an object with iqm and ci95"), f"{path}.achieved_share")
        _field(c, "mixture_weight", path, "number", "a number or null", optional=True)
        fit = _field(c, "single_fit", path, dict, "an object", optional=True) or {}
        _field(fit, "heldout_loglik_per_step", f"{path}.single_fit", "number", "a number or null", optional=True)
        gain = _field(fit, "heldout_gain", f"{path}.single_fit", dict, "an object with value and ci95", optional=True)
        if gain is not None:
            _check_stat({"mean": _field(gain, "value", f"{path}.single_fit.heldout_gain", "number", "a number"),
                         "ci95": _field(gain, "ci95", f"{path}.single_fit.heldout_gain", list, "a list")},
                        f"{path}.single_fit.heldout_gain")
    return doc


def read_json_document(path: Path, check):
    """``path`` parsed and passed through ``check``; any fault is one ScenarioError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ScenarioError(f"cannot read {str(path)!r}: {reason}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{str(path)!r} is not valid JSON ({error.msg}, line {error.lineno})") from None
    try:
        return check(doc)
    except _Malformed as error:
        raise ScenarioError(f"{str(path)!r} is malformed: {error}") from None


def read_run_summary(path: Path) -> RunSummary:
    return read_json_document(Path(path), check_run_summary)


def read_run_config(path: Path) -> RunConfig:
    return read_json_document(Path(path), check_run_config)


def read_diagnosis(path: Path) -> dict[str, Any]:
    return read_json_document(Path(path), check_diagnosis)


def format_number(value: float | None, digits: int = 2) -> str:
    """A stored number for a table; ``n/a`` where the run could not measure it (null or NaN)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"
