"""``specgym diagnose``: one scenario's root causes, behavioural objective, hacking detector and Goodhart curve.

The work is shared between the parts: the 8 fix combinations trained for lever
attribution also give the deployed policy whose behaviour is explained, the
policies the hacking detector sorts, and (from the unfixed combination's
checkpoints) the Goodhart curve against training steps. Everything is written
to a diagnosis directory as it is produced: ``diagnosis.json`` plus the
pictures the HTML report shows.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax

from specgym.applicability import is_not_applicable
from specgym.diagnose.combinations import canonical_fixes, coalition_label, per_seed_scores, train_all_combinations
from specgym.diagnose.levers import attribute
from specgym.errors import ScenarioError
from specgym.rl.policy_io import save_policies, select_seed
from specgym.run_dir import RunDir
from specgym.scenarios.base import LEVERS, Scenario

SECTIONS = ("attribution", "behaviour", "detector", "goodhart")


@dataclasses.dataclass(frozen=True)
class DiagnoseConfig:
    """What a diagnosis trains and measures."""

    seeds: int = 8
    """Seeds per fix combination (trained at once)."""
    seed: int = 0
    """Master seed, the same for every combination (paired comparisons)."""
    eval_episodes: int = 64
    """Evaluation episodes per seed and split."""
    behaviour_episodes: int = 256
    """Episodes per seed played on the behaviour fit's levels (half fitted, half held out for the verdict)."""
    fit_levels: int = 8
    """Levels the behaviour fit solves (the most visited; each adds fit time, none adds training)."""
    sections: tuple[str, ...] = SECTIONS
    """Which parts to compute; the 8 combinations (and so the attribution) are always trained."""
    checkpoints: int = 8
    """Evaluations of the unfixed combination during training (the Goodhart curve against steps)."""
    widths: tuple[int, ...] = (16,)
    """Extra hidden-layer widths for the Goodhart curve against model size (the default width is reused)."""
    reference: str = "demos"
    """Trusted reference of the detector: ``demos`` (clones of the exact intended-reward expert; ``rl`` where
    the scenario has no tabular model) or ``rl`` (PPO on the intended reward). See docs/diagnose.md, section 3."""
    demo_episodes: int = 32
    """Expert episodes the ``demos`` reference is cloned from."""
    reference_fraction: float = 0.25
    """Budget of the ``rl`` reference, as a share of the default."""
    share_noops: bool = True
    """Train combinations that differ only by levers without a fix once (exact; False times all 8)."""
    pictures: bool = True
    """Write GIFs and plots for the report."""


class DiagnosisWriter:
    """Keeps ``diagnosis.json`` up to date as parts finish, so an interrupted diagnosis keeps what it measured."""

    def __init__(self, directory: RunDir, result: dict):
        self.directory, self.result = directory, result

    def save(self) -> None:
        self.directory.write_json("diagnosis.json", self.result)


def _combination_rows(combos: dict) -> list[dict]:
    rows = []
    for coalition, combo in combos.items():
        rows.append({"fixed": coalition_label(coalition), "fixes": combo.fixes, "shared_with": combo.shared_with,
                     "seconds": None if combo.shared_with else combo.seconds, "env_steps": combo.trained_steps,
                     **{f"{split}_{which}": combo.splits[split][which]
                        for split in ("train", "deploy") for which in ("specified_score", "intended_score")}})
    return rows


def diagnose_scenario(scenario: Scenario, overrides: dict | None = None, config: DiagnoseConfig = DiagnoseConfig(),
                      out_root: Path = Path("runs"), progress: bool = True) -> dict:
    """Diagnose a scenario's failure: lever attribution, behavioural objective, hacking detector, Goodhart curve.

    The Python form of `specgym diagnose SCENARIO --json`: it trains every combination of the levers' canonical
    fixes, writes the diagnosis directory (`diagnosis.json` and the report's pictures) as parts finish, and
    returns the same document (`directory` names the folder).

    Args:
        scenario: The scenario to diagnose.
        overrides: Scenario settings and trainer fields, e.g. `{"total_steps": 1024}`.
        config: Seeds, evaluation episodes and which parts to compute (`DiagnoseConfig`).
        out_root: Parent of the diagnosis directory.
        progress: Show progress bars.
    """
    started = time.perf_counter()
    overrides = dict(overrides or {})
    unknown = sorted(set(config.sections) - set(SECTIONS))
    if unknown:
        raise ScenarioError(f"unknown diagnosis part {unknown[0]!r}; valid: {', '.join(SECTIONS)}")
    if config.seeds < 2:
        raise ScenarioError(f"a diagnosis needs at least 2 seeds for its confidence intervals, not {config.seeds}")
    run_dir = RunDir.create(out_root, f"{scenario.id}-diagnosis")
    directory = run_dir.path
    canonical = canonical_fixes(scenario)
    result = {
        "scenario": scenario.id, "kind": "diagnosis", "directory": str(directory),
        "settings": overrides, "seeds": config.seeds, "seed": config.seed, "eval_episodes": config.eval_episodes,
        "canonical_fixes": canonical,
        "noop_levers": [lever for lever in LEVERS if canonical[lever] is None],
        "command": reproduce_command(scenario.id, overrides, config),
        "interrupted": False,
    }
    writer = DiagnosisWriter(run_dir, result)
    writer.save()
    checkpoints = []
    hook = None
    if "goodhart" in config.sections:
        from specgym.diagnose.pressure import checkpoint_hook

        hook = checkpoint_hook(scenario, overrides, config, checkpoints)
    try:
        combos = train_all_combinations(scenario, overrides, config.seeds, config.seed, config.eval_episodes,
                                        progress=progress, share_noops=config.share_noops, on_chunk_baseline=hook)
        result["combinations"] = _combination_rows(combos)
        result["attribution"] = attribute(per_seed_scores(combos), canonical)
        result["attribution"]["measure"] = "deploy intended score (0 random, 1 optimal), mean over seeds"
        writer.save()
        _save_policies(directory, combos)
        for part in (p for p in config.sections if p in PARTS):
            result[part] = PARTS[part](scenario, overrides, config, combos, directory, checkpoints, progress)
            writer.save()
        if config.pictures:
            from specgym.report.diagnosis_pictures import diagnosis_pictures

            result["pictures"] = diagnosis_pictures(scenario, combos, result, directory, config.seed)
    except KeyboardInterrupt:
        result["interrupted"] = True
    result["wall_seconds"] = time.perf_counter() - started
    writer.save()
    return result


def _save_policies(directory: Path, combos: dict) -> None:
    for coalition, combo in combos.items():
        if combo.shared_with is None:
            save_policies(combo.nets, directory / f"policy-{coalition_label(coalition)}.npz")


def _behaviour(scenario, overrides, config, combos, directory, checkpoints, progress):
    from specgym.diagnose.behaviour import explain_behaviour

    base = combos[frozenset()]
    return explain_behaviour(scenario, base.setup, base.nets, jax.random.PRNGKey(config.seed + 1),
                             episodes=config.eval_episodes, fit_episodes=config.behaviour_episodes,
                             max_levels=config.fit_levels)


def _detector(scenario, overrides, config, combos, directory, checkpoints, progress):
    from specgym.diagnose.detect import detect_in_diagnosis

    return detect_in_diagnosis(scenario, overrides, config, combos, progress)


def _goodhart(scenario, overrides, config, combos, directory, checkpoints, progress):
    from specgym.diagnose.pressure import goodhart_from_diagnosis

    return goodhart_from_diagnosis(scenario, overrides, config, combos, checkpoints, progress)


PARTS = {"behaviour": _behaviour, "detector": _detector, "goodhart": _goodhart}


def reproduce_command(scenario_id: str, overrides: dict, config: DiagnoseConfig) -> str:
    """The exact command line that repeats this diagnosis."""
    parts = ["specgym", "diagnose", scenario_id, "--seeds", str(config.seeds), "--seed", str(config.seed),
             "--eval-episodes", str(config.eval_episodes)]
    for name, value in overrides.items():
        parts += ["--set", f"{name}={value}"]
    if tuple(config.sections) != SECTIONS:
        for part in config.sections:
            parts += ["--only", part]
    if tuple(config.widths) != DiagnoseConfig.widths:
        parts += ["--widths", ",".join(str(w) for w in config.widths) or "none"]
    if config.reference != DiagnoseConfig.reference:
        parts += ["--reference", config.reference]
    if config.demo_episodes != DiagnoseConfig.demo_episodes:
        parts += ["--demo-episodes", str(config.demo_episodes)]
    if config.behaviour_episodes != DiagnoseConfig.behaviour_episodes:
        parts += ["--behaviour-episodes", str(config.behaviour_episodes)]
    if config.fit_levels != DiagnoseConfig.fit_levels:
        parts += ["--fit-levels", str(config.fit_levels)]
    return " ".join(parts)


def single_policy(combo, seed_index: int = 0):
    """One seed's network of a combination (for GIFs)."""
    return select_seed(combo.nets, seed_index)


def format_diagnosis(result: dict) -> str:
    """The human-readable diagnosis: attribution table, behaviour verdict, detector, Goodhart curve."""
    lines = [f"{result['scenario']}: diagnosis over {result['seeds']} seeds per fix combination"
             + ("  (INTERRUPTED)" if result.get("interrupted") else "")]
    if "combinations" in result:
        lines += ["", f"{'fixed levers':<34s}{'deploy intended':>16s}  95% CI     {'train specified':>16s}"]
        for row in result["combinations"]:
            d, t = row["deploy_intended_score"], row["train_specified_score"]
            shared = f"  (= {row['shared_with']}: no-op levers)" if row["shared_with"] else ""
            lines.append(f"  {row['fixed']:<32s}{d['iqm']:>16.2f}  [{d['ci95'][0]:.2f}, {d['ci95'][1]:.2f}]"
                         f"{t['iqm']:>12.2f}{shared}")
    if "attribution" in result:
        att = result["attribution"]
        lines += ["", f"lever attribution (Shapley values of the {att['measure']}):"]
        for lever, info in att["levers"].items():
            fix = f"does not apply: {info['fix']['why']}" if is_not_applicable(info["fix"]) else info["fix"]
            lines.append(f"  {lever:<12s}{info['shapley']:7.2f}  [{info['ci95'][0]:.2f}, {info['ci95'][1]:.2f}]  {fix}")
        for pair, stat in att["interactions"].items():
            lines.append(f"  interaction {pair:<24s}{stat['mean']:7.2f}  [{stat['ci95'][0]:.2f}, {stat['ci95'][1]:.2f}]")
        total = att["total"]
        lines.append(f"  total (all fixes - none)  {total['mean']:7.2f}  [{total['ci95'][0]:.2f}, {total['ci95'][1]:.2f}]")
        lines.append(f"verdict: {att['verdict']}")
    for part in ("behaviour", "detector", "goodhart"):
        section = result.get(part)
        if section and is_not_applicable(section) and part != "detector":
            lines += ["", f"{part}: does not apply: {section['why']}"]
        elif section and section.get("summary"):
            lines += ["", f"{part}: " + section["summary"][0]] + ["  " + x for x in section["summary"][1:]]
    lines += ["", f"diagnosis directory: {result['directory']}  ({result.get('wall_seconds', 0):.1f} s)",
              f"report: specgym report {result['directory']}"]
    return "\n".join(lines)
