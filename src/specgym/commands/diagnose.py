"""``specgym diagnose``: root causes across the three levers, behaviour, hacking detector, Goodhart curve."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from specgym.cli_options import eval_episodes_option, json_option, out_option, seed_option, seeds_option, set_option


def _widths(text: str) -> tuple[int, ...]:
    from specgym.errors import ScenarioError

    if text.strip().lower() in ("", "none"):
        return ()
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ScenarioError(f"--widths takes comma-separated positive integers or 'none', got {text!r}") from None
    if any(v < 1 for v in values):
        raise ScenarioError(f"--widths takes positive integers, got {text!r}")
    return values


@click.command("diagnose")
@click.argument("scenario")
@seeds_option(8, low=2, help="Seeds per fix combination.")
@seed_option("Master seed (shared by every combination).")
@set_option("Scenario setting or trainer field for every combination, e.g. total_steps=200000.")
@click.option("--only", "only", multiple=True, type=click.Choice(["attribution", "behaviour", "detector", "goodhart"]),
              help="Compute only these parts (repeatable; the fix combinations are always trained).")
@click.option("--widths", default="16", show_default=True, metavar="W1,W2",
              help="Extra hidden widths for the Goodhart curve against model size ('none' to skip).")
@eval_episodes_option()
@click.option("--reference", default="demos", show_default=True, type=click.Choice(["demos", "rl"]),
              help="The detector's trusted reference: clones of the exact intended-reward expert, or PPO on the "
                   "intended reward with a quarter of the budget.")
@click.option("--demo-episodes", default=32, show_default=True, type=click.IntRange(1, 100_000),
              help="Expert episodes the demos reference is cloned from (more for scenarios with many levels).")
@click.option("--behaviour-episodes", default=256, show_default=True, type=click.IntRange(2, 100_000),
              help="Episodes per seed played on the behaviour fit's levels (half held out for the verdict).")
@click.option("--fit-levels", default=8, show_default=True, type=click.IntRange(1, 4096),
              help="Levels the behaviour fit solves (each adds fit time).")
@json_option("Print only the diagnosis as JSON.")
@out_option(help="Where the diagnosis directory goes.")
@click.option("--no-pictures", is_flag=True, help="Skip GIFs and plots (the report then has fewer pictures).")
def COMMAND(scenario, seeds, seed, settings, only, widths, eval_episodes, reference, demo_episodes,
            behaviour_episodes, fit_levels, as_json, out, no_pictures):
    """Train every combination of SCENARIO's canonical fixes and say which levers caused the failure."""
    from specgym.cli_options import scenario_overrides
    from specgym.diagnose.diagnosis import SECTIONS, DiagnoseConfig, diagnose_scenario, format_diagnosis
    from specgym.scenarios import get

    config = DiagnoseConfig(seeds=seeds, seed=seed, eval_episodes=eval_episodes,
                            sections=tuple(p for p in SECTIONS if not only or p in only),
                            widths=_widths(widths), reference=reference, demo_episodes=demo_episodes,
                            behaviour_episodes=behaviour_episodes, fit_levels=fit_levels, pictures=not no_pictures)
    result = diagnose_scenario(get(scenario), scenario_overrides(get(scenario), settings), config,
                               out_root=Path(out), progress=not as_json)
    click.echo(json.dumps(result, indent=2) if as_json else format_diagnosis(result))
    if result.get("interrupted"):
        sys.exit(130)
