"""``specgym imitate``: learn a scenario from expert demonstrations (BC, DAgger, procedure cloning, MaxEnt IRL)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("imitate")
@click.argument("scenario")
@click.option("--method", default="bc", show_default=True, type=click.Choice(["bc", "dagger", "pc", "irl"]),
              help="Behavioural cloning, DAgger, procedure cloning or maximum-entropy IRL.")
@click.option("--seeds", default=8, show_default=True, type=click.IntRange(1, 4096), help="Seeds, trained at once.")
@click.option("--seed", default=0, show_default=True, type=int, help="Master seed.")
@click.option("--demos", "demos_path", default=None, type=click.Path(dir_okay=False),
              help="Load demonstrations from this .npz file instead of generating them.")
@click.option("--demo-episodes", default=None, type=click.IntRange(1, 100_000),
              help="Expert episodes to demonstrate (default: the scenario's).")
@click.option("--label-budget", default=None, type=click.IntRange(4, 10_000_000),
              help="Expert-labelled states for BC and DAgger (default: the scenario's, else all demonstrated).")
@click.option("--fix", "fixes", multiple=True, metavar="LEVER=NAME", help="Apply a documented fix (repeatable).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Scenario setting.")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary as JSON.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="Where run directories go.")
@click.option("--eval-episodes", default=64, show_default=True, type=click.IntRange(1, 100_000), help="Episodes per seed and split.")
@click.option("--no-pictures", is_flag=True, help="Skip the GIFs.")
def COMMAND(scenario, method, seeds, seed, demos_path, demo_episodes, label_budget, fixes, settings, as_json, out,  # noqa: N802
            eval_episodes, no_pictures):
    """Learn SCENARIO from demonstrations of its exact expert; evaluate on train and deploy levels."""
    from specgym.cli import format_table, parse_fixes, parse_settings
    from specgym.run_dir import dumps
    from specgym.runners.imitate import format_method_metrics, run_imitation
    from specgym.scenarios import get

    summary = run_imitation(get(scenario), method, parse_settings(settings), parse_fixes(fixes), seeds=seeds, seed=seed,
                            demos_path=demos_path, demo_episodes=demo_episodes, out_root=Path(out),
                            eval_episodes=eval_episodes, progress=not as_json, pictures=not no_pictures,
                            label_budget=label_budget)
    click.echo(dumps(summary, indent=2) if as_json else format_table(summary) + "\n" + format_method_metrics(summary))
