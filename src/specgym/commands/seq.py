"""``specgym seq``: RLHF on sequences at toy scale, one subcommand per pipeline step.

Every subcommand takes the same options (``--set path=value`` for any field of its
config, ``--seed``, ``--out``, ``--cache``, ``--json``), writes a run directory
with ``config.json``, ``summary.json`` and its pictures, and prints a short table.
The steps are registered in ``specgym.seq.steps.STEPS``; adding one adds a row there.
"""

from __future__ import annotations

import click

from specgym.cli_options import json_option, out_option, seed_option, set_option
from specgym.seq.steps import STEPS, run_seq_step


def _run_step(name, settings, seed, out, cache, as_json, quiet):
    from specgym.cli_options import parse_settings
    from specgym.run_dir import dumps

    summary = run_seq_step(name, parse_settings(settings), seed, out, None if cache == "none" else cache,
                           progress=not quiet)
    if as_json:
        click.echo(dumps(summary))
    else:
        click.echo("\n".join(summary.get("table", [])) + f"\nwritten: {summary['run_dir']}")


def _make_command(name: str) -> click.Command:
    @click.command(name, help=STEPS[name][3])
    @set_option("Change a config field, e.g. rm.comparisons=300 or ppo.kl_coef=0.1 (repeatable; "
                "a wrong name lists the valid ones).", metavar="PATH=VALUE")
    @seed_option("Master seed (the reference policy's too).")
    @out_option(help="Parent of the run directory.")
    @click.option("--cache", default="runs/seq-cache", show_default=True,
                  help="Where the pretrained reference is kept between steps ('none' to always retrain).")
    @json_option("Print the summary as JSON.")
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    def command(settings, seed, out, cache, as_json, quiet):
        _run_step(name, settings, seed, out, cache, as_json, quiet)

    return command


@click.group("seq")
def seq_group():
    """RLHF on sequences at toy scale: pretrain, SFT, reward models, best-of-n, PPO-KL, DPO, RLAIF,
    pretraining with feedback, and reward-model overoptimisation."""


for _name in STEPS:
    seq_group.add_command(_make_command(_name))

COMMAND = seq_group
