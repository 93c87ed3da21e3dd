"""``specgym seq``: RLHF on sequences at toy scale, one subcommand per pipeline step.

Every subcommand takes the same options (``--set path=value`` for any field of its
config, ``--seed``, ``--out``, ``--cache``, ``--json``), writes a run directory
with ``config.json``, ``summary.json`` and its pictures, and prints a short table.
The steps are registered in ``STEPS``; adding one adds a row there.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import click

from specgym.cli_options import json_option, out_option, seed_option, set_option

# name -> (module, config class, run function, one-line help)
STEPS = {
    "pretrain": ("pretrain", "PretrainRun", "run_pretrain", "Pretrain the policy on the Markov source (refreshes the cache)."),
    "sft": ("pretrain", "PretrainRun", "run_sft", "Fine-tune the pretrained policy on gold-best demonstrations."),
    "rm": ("rlhf", "SeqRLHFConfig", "run_rm", "Bradley-Terry proxies from N gold-labelled comparisons; on- and off-distribution accuracy."),
    "bon": ("rlhf", "SeqRLHFConfig", "run_bon", "Best-of-n sampling against the proxy, n = 1..max_n."),
    "ppo": ("rlhf", "SeqRLHFConfig", "run_ppo", "PPO against the proxy with a fixed or adaptive KL penalty."),
    "dpo": ("dpo", "DPOConfig", "run_dpo", "Direct preference optimisation on the same comparisons, a sweep of beta."),
    "rlaif": ("rlaif", "RLAIFConfig", "run_rlaif", "RL from AI feedback under a written constitution, against gold-labelled RLHF."),
    "phf": ("phf", "PHFConfig", "run_phf", "Pretraining with feedback (filtering, conditional) against pretraining + RLHF."),
    "overoptimization": ("overoptimization", "OveroptimizationConfig", "run_overoptimization_step",
                         "Gold and proxy against sqrt(KL) for best-of-n and PPO, with the Gao et al. fits."),
}


def _run_step(name, settings, seed, out, cache, as_json, quiet):
    from specgym.cli_options import parse_settings
    from specgym.run_dir import RunDir, dumps, jsonable
    from specgym.settings import replace_fields

    module_name, config_name, run_name, _ = STEPS[name]
    module = importlib.import_module(f"specgym.seq.{module_name}")
    cfg = replace_fields(getattr(module, config_name)(), parse_settings(settings))
    run_dir = RunDir.create(out, f"seq-{name}")
    run_dir.write_json("config.json", {"step": name, "seed": seed, "config": dataclasses.asdict(cfg)})
    summary = getattr(module, run_name)(cfg, seed, None if cache == "none" else Path(cache), run_dir.path,
                                        progress=not quiet)
    summary = jsonable({**summary, "run_dir": str(run_dir)})
    run_dir.write_json("summary.json", summary, indent=1)
    if as_json:
        click.echo(dumps(summary))
    else:
        click.echo("\n".join(summary.get("table", [])) + f"\nwritten: {run_dir}")


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
