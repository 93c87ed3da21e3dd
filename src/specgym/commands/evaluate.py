"""``specgym evaluate``: score a policy trained anywhere with the scores, events and CIs of ``specgym run``."""

from __future__ import annotations

from pathlib import Path

import click

from specgym.cli_options import fix_option, json_option, parse_fixes, parse_settings, set_option
from specgym.errors import ScenarioError
from specgym.run_dir import dumps

SEED = click.IntRange(0, 2**32 - 1)


@click.command("evaluate")
@click.argument("target", metavar="SCENARIO|RUN_DIR")
@click.option("--policy", metavar="MODULE:FUNCTION",
              help="A JAX function (obs, key) -> action or a Python callable obs -> action (NumPy).")
@click.option("--kind", "policy_kind", type=click.Choice(["auto", "jax", "numpy"]), default="auto", show_default=True,
              help="What the policy is; auto reads its signature.")
@click.option("--split", type=click.Choice(["deploy", "train", "both"]), default="deploy", show_default=True)
@click.option("--episodes", type=click.IntRange(1, 100_000), default=None,
              help="Episodes per seed and split [default: 64, or the run's].")
@click.option("--seeds", type=click.IntRange(1, 4096), default=None,
              help="Evaluation seeds [default: 8, or every policy the run trained].")
@click.option("--seed", type=SEED, default=None, help="Master seed [default: 0, or the run's].")
@fix_option()
@set_option("Scenario setting, e.g. max_steps=50.")
@json_option()
def COMMAND(target, policy, policy_kind, split, episodes, seeds, seed, fixes, settings, as_json):
    """Score a policy on SCENARIO (with --policy) or the policies of RUN_DIR, as `specgym run` scores its own."""
    from specgym.policies import load_function
    from specgym.report.tables import format_table
    from specgym.scoring import evaluate

    splits = ["train", "deploy"] if split == "both" else [split]
    options = {"split": splits, "episodes": episodes, "seeds": seeds, "seed": seed,
               "fixes": parse_fixes(fixes) or None, "settings": parse_settings(settings) or None}
    if Path(target).is_dir():
        if policy is not None:
            raise ScenarioError("a run directory brings its own policies; leave out --policy")
        summary = evaluate(target, **options)
    else:
        if policy is None:
            raise ScenarioError("say which policy to score: --policy module:function (or give a run directory)")
        summary = evaluate(load_function(policy), target, policy_kind=policy_kind, **options)
    click.echo(dumps(summary, indent=2) if as_json else format_table(summary))
