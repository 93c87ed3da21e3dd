"""``specgym imitate``: learn a scenario from expert demonstrations (BC, DAgger, procedure cloning, MaxEnt IRL)."""

from __future__ import annotations

from pathlib import Path

import click

from specgym.cli_options import (
    eval_episodes_option,
    fix_option,
    json_option,
    out_option,
    seed_option,
    seeds_option,
    set_option,
)


@click.command("imitate")
@click.argument("scenario")
@click.option("--method", default="bc", show_default=True, type=click.Choice(["bc", "dagger", "pc", "irl"]),
              help="Behavioural cloning, DAgger, procedure cloning or maximum-entropy IRL.")
@seeds_option()
@seed_option()
@click.option("--demos", "demos_path", default=None, type=click.Path(dir_okay=False),
              help="Load demonstrations from this .npz file instead of generating them.")
@click.option("--demo-episodes", default=None, type=click.IntRange(1, 100_000),
              help="Expert episodes to demonstrate (default: the scenario's).")
@click.option("--label-budget", default=None, type=click.IntRange(4, 10_000_000),
              help="Expert-labelled states for BC and DAgger (default: the scenario's, else all demonstrated).")
@fix_option()
@set_option("Scenario setting (imitation trains no PPO, so trainer fields are refused).")
@json_option()
@out_option()
@eval_episodes_option()
@click.option("--no-pictures", is_flag=True, help="Skip the GIFs.")
def COMMAND(scenario, method, seeds, seed, demos_path, demo_episodes, label_budget, fixes, settings, as_json, out,
            eval_episodes, no_pictures):
    """Learn SCENARIO from demonstrations of its exact expert; evaluate on train and deploy levels."""
    from specgym.cli_options import parse_fixes, scenario_settings_only
    from specgym.report.tables import format_table
    from specgym.run_dir import dumps
    from specgym.runners.imitate import format_method_metrics, run_imitation
    from specgym.scenarios import get

    found = get(scenario)
    overrides = scenario_settings_only(found, settings, "imitate")
    summary = run_imitation(found, method, overrides, parse_fixes(fixes), seeds=seeds, seed=seed,
                            demos_path=demos_path, demo_episodes=demo_episodes, out_root=Path(out),
                            eval_episodes=eval_episodes, progress=not as_json, pictures=not no_pictures,
                            label_budget=label_budget)
    click.echo(dumps(summary, indent=2) if as_json else format_table(summary) + "\n" + format_method_metrics(summary))
