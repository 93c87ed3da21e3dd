"""``specgym detect``: the reward-hacking detector's AUROC over policies pooled across scenarios."""

from __future__ import annotations

import json
import time

import click

from specgym.cli_options import finite_float, json_option, out_option, seed_option, seeds_option, set_option


@click.command("detect")
@click.argument("scenarios", nargs=-1)
@seeds_option(4, help="Seeds per scenario and setup (unfixed, every fix); each is one policy in the pool.")
@seed_option()
@set_option("Setting or trainer field for every scenario, e.g. total_steps=100000.")
@click.option("--eval-episodes", default=16, show_default=True, type=click.IntRange(1, 100_000),
              help="Episodes per policy for its proxy and intended scores.")
@click.option("--reference", "references", multiple=True, type=click.Choice(["demos", "rl"]),
              help="Trusted reference(s); the first is the detector's, others are measured beside it. "
                   "demos: clones of the exact intended-reward expert (default); rl: PPO on the intended reward.")
@click.option("--demo-episodes", default=32, show_default=True, type=click.IntRange(1, 100_000),
              help="Demonstrated episodes the demos reference is cloned from.")
@click.option("--reference-fraction", default=0.25, show_default=True, type=finite_float(0.0, 1.0, min_open=True),
              help="Budget of the rl reference (intended reward) as a share of the training budget.")
@json_option("Print only the result as JSON.")
@out_option(help="Where detector-catalogue-<time>.json goes.")
def COMMAND(scenarios, seeds, seed, settings, eval_episodes, references, demo_episodes, reference_fraction,
            as_json, out):
    """Detection AUROC (Jensen-Shannon, Hellinger) of hacking vs non-hacking policies across SCENARIOS.

    Without SCENARIOS: every scenario whose failure is gaming its proxy reward (docs/diagnose.md lists them).
    """
    from specgym.cli_options import scenario_overrides
    from specgym.diagnose.detector_catalogue import (
        CatalogueDetectConfig,
        detect_across,
        format_catalogue,
        reward_gaming_pool,
        save_catalogue,
    )
    from specgym.run_dir import check_writable_dir
    from specgym.scenarios import get

    config = CatalogueDetectConfig(seeds=seeds, seed=seed, eval_episodes=eval_episodes,
                                   references=tuple(dict.fromkeys(references)) or ("demos",),
                                   demo_episodes=demo_episodes, reference_fraction=reference_fraction)
    path = check_writable_dir(out) / time.strftime("detector-catalogue-%Y%m%d-%H%M%S.json")
    ids = list(scenarios) or reward_gaming_pool()
    # every scenario takes every --set, so the first one's declared types convert the text for all
    overrides = scenario_overrides(get(ids[0]), settings)
    result = detect_across(ids, overrides, config, progress=not as_json, save_to=path)
    save_catalogue(result, path)
    click.echo(json.dumps(result, indent=2) if as_json else format_catalogue(result))
