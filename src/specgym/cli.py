"""The ``specgym`` command.

Mistakes a user can make (unknown scenario, fix or setting, bad value,
unwritable directory) end in one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from specgym.cli_options import (
    eval_episodes_option,
    fix_option,
    json_option,
    out_option,
    parse_fixes,
    parse_setting_lists,
    scenario_overrides,
    seed_option,
    seeds_option,
    set_option,
)
from specgym.errors import ScenarioError
from specgym.report.tables import format_table
from specgym.run_dir import dumps
from specgym.scenarios import get, scenario_ids


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """specgym: train, watch, measure and fix agents that game their specification."""


@cli.command("list")
def list_command():
    """Scenarios, with a one-line story each."""
    for sid in scenario_ids():
        click.echo(f"{sid:18s} {get(sid).story}")


@cli.command("run")
@click.argument("scenario")
@seeds_option()
@seed_option()
@fix_option()
@set_option("Scenario setting or trainer field, e.g. random_percent=0.05 or total_steps=200000.")
@json_option()
@out_option()
@eval_episodes_option()
@click.option("--no-pictures", is_flag=True, help="Skip the GIFs and the training-curve PNG.")
def run_command(scenario, seeds, seed, fixes, settings, as_json, out, eval_episodes, no_pictures):
    """Train SCENARIO on several seeds, evaluate on train and deploy levels, write a run directory."""
    from specgym.run import run_scenario

    found = get(scenario)
    summary = run_scenario(found, scenario_overrides(found, settings), parse_fixes(fixes), seeds=seeds, seed=seed,
                           out_root=Path(out), eval_episodes=eval_episodes, progress=True, pictures=not no_pictures)
    click.echo(dumps(summary, indent=2) if as_json else format_table(summary))
    if summary.get("interrupted"):
        sys.exit(130)


@cli.command("sweep")
@click.argument("scenario")
@set_option("Values of a setting or trainer field to sweep (repeatable: the grid of all combinations).",
            metavar="NAME=V1,V2,...", required=True)
@seeds_option(help="Seeds per grid point.")
@seed_option("Master seed (the same at every point).")
@fix_option("Apply a documented fix at every point.")
@json_option("Print only the sweep summary as JSON.")
@out_option(help="Where the sweep directory goes.")
@eval_episodes_option()
@click.option("--pictures", is_flag=True, help="Also write GIFs and curves for every grid point.")
def sweep_command(scenario, settings, seeds, seed, fixes, as_json, out, eval_episodes, pictures):
    """Run SCENARIO at every combination of the --set values; one row per point (deploy scores, event rates)."""
    from specgym.sweep import format_sweep, sweep_scenario

    found = get(scenario)
    values = {name: [found.parse_override(name, text) for text in texts]
              for name, texts in parse_setting_lists(settings).items()}
    result = sweep_scenario(found, values, parse_fixes(fixes), seeds=seeds, seed=seed, out_root=Path(out),
                            eval_episodes=eval_episodes, progress=not as_json, pictures=pictures)
    click.echo(dumps(result, indent=2) if as_json else format_sweep(result))
    if result["interrupted"]:
        sys.exit(130)


@cli.command("bench")
@json_option("Print the results as JSON.")
@click.option("--quick", is_flag=True, help="Fewer sizes and repeats (a smoke run).")
@click.option("--env", "only_envs", multiple=True, metavar="ID", help="Measure only these envs (repeatable; default all).")
def bench_command(as_json, quick, only_envs):
    """Environment and training throughput (medians of repeats; see bench/README.md)."""
    from specgym.benchmark import run_benchmarks

    results = run_benchmarks(quick=quick, only_envs=list(only_envs) or None)
    click.echo(json.dumps(results, indent=2) if as_json else results["table"])


def _add_tool_commands() -> None:
    """Commands that live beside the tool they drive (one module each in ``specgym.commands``)."""
    from specgym.commands import tool_commands

    for command in tool_commands():
        cli.add_command(command)


_add_tool_commands()


def main(argv=None) -> int:
    try:
        cli.main(args=argv, prog_name="specgym", standalone_mode=False)
    except ScenarioError as error:
        click.echo(f"specgym: error: {error}", err=True)
        return 2
    except click.exceptions.Abort as error:
        # click turns Ctrl-C into Abort; the KeyboardInterrupt it wraps may say where the work so far is
        reason = str(error.__cause__ or "")
        click.echo("specgym: interrupted" + (f"; {reason}" if reason else ""), err=True)
        return 130
    except click.ClickException as error:
        click.echo(f"specgym: error: {error.format_message()}", err=True)
        return 2
    except KeyboardInterrupt as error:
        click.echo(f"specgym: interrupted; {str(error) or 'files written so far are kept'}", err=True)
        return 130
    return 0


def console_main() -> None:
    """The installed ``specgym`` command: one XLA device per CPU core, programs compiled quickly where they run
    briefly (``compile_options``) and kept on disk, then ``main``.

    ``specgym bench`` reads no compiled programs from disk: it times compilation as a first run pays it.
    """
    from specgym import compile_cache, compile_options, seed_parallel

    seed_parallel.use_cpu_cores()
    compile_options.compile_quickly_by_default()
    if sys.argv[1:2] != ["bench"]:
        compile_cache.use_disk_cache()
    sys.exit(main())


if __name__ == "__main__":
    console_main()
