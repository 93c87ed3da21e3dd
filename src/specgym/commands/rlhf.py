"""``specgym rlhf``: train a scenario from an evaluator's comparisons instead of its specified reward.

The command reads its options into a loop configuration and prints the table;
the run itself (training, evaluation, the run directory) is
``specgym.runners.rlhf.run_rlhf``. Several label budgets
(``--labels 25,50,100,200``) train side by side and give the labels-needed curve.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from specgym.cli_options import (
    FINITE_FLOAT,
    PORT,
    eval_episodes_option,
    finite_float,
    fix_option,
    json_option,
    out_option,
    seed_option,
    seeds_option,
    set_option,
)
from specgym.errors import ScenarioError
from specgym.results import RunSummary
from specgym.scenarios import get

EVALUATOR_HELP = ("oracle (intended reward, exact), noisy (intended reward, Boltzmann + mistakes), "
                  "a limited view the scenario declares (camera-grasp: camera, second-camera), or human (a web page)")


def parse_budgets(text: str) -> tuple[int, ...]:
    try:
        budgets = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise ScenarioError(f"--labels takes positive integers separated by commas, got {text!r}") from None
    if not budgets or budgets[0] < 1:
        raise ScenarioError(f"--labels takes positive integers separated by commas, got {text!r}")
    return budgets


def format_rlhf(summary: RunSummary) -> str:
    from specgym.report.tables import format_stat, format_table

    info = summary.get("rlhf", {})
    lines = [format_table(summary), "", f"evaluator: {info['evaluator']}   label budgets: "
             f"{', '.join(map(str, info['labels']))}   (table above: {info['labels'][-1]} labels)"]
    header = f"{'labels':>7s}  {'intended score (train)':>24s}  {'evaluator score':>22s}  {'held-out accuracy':>22s}  " \
             f"{'acc. vs intended':>22s}  {'corr. with intended':>22s}"
    lines.append(header)
    for budget, row in info["per_budget"].items():
        cells = [format_stat(row[k]) if row.get(k) else f"{'-':>22s}" for k in
                 ("intended_score", "evaluator_score", "heldout_accuracy", "intended_accuracy", "reward_correlation")]
        lines.append(f"{budget:>7s}  " + "  ".join(f"{c:>22s}" for c in cells))
    if info.get("baseline"):
        lines.append(f"{'PPO on the intended reward':>7s}: intended score (train) {format_stat(info['baseline'])}")
    return "\n".join(lines)


@click.command("rlhf")
@click.argument("scenario")
@click.option("--evaluator", default="oracle", show_default=True, metavar="NAME", help=EVALUATOR_HELP)
@click.option("--labels", "labels_text", default=None, metavar="N[,N...]",
              help="Comparisons per agent; several budgets train side by side (the labels-needed curve). "
                   "[default: the scenario's recommendation, else 400]")
@click.option("--labels-per-round", default=None, type=click.IntRange(1, 10_000),
              help="Comparisons asked per round of the loop. [default: the scenario's, else 50]")
@click.option("--pretrain-labels", default=None, type=click.IntRange(0, 100_000),
              help="Of the budget, comparisons of the untrained policy's clips asked before the policy is "
                   "trained (whole rounds). [default: the scenario's, else 0]")
@seeds_option(4, high=1024, help="Seeds per budget.")
@seed_option()
@fix_option()
@set_option()
@click.option("--rationality", default=1.0, show_default=True, type=FINITE_FLOAT,
              help="noisy: Boltzmann beta per unit of intended return.")
@click.option("--mistake-rate", default=0.1, show_default=True, type=finite_float(0, 1),
              help="noisy: share of answers replaced by a coin flip.")
@click.option("--random-queries", is_flag=True, help="Ask about random pairs instead of the most disputed ones.")
@click.option("--baseline", is_flag=True, help="Also train PPO on the intended reward with the same env steps.")
@click.option("--store", "store_url", default=None, help="human: label database URL (default: sqlite in the run dir).")
@click.option("--port", default=8765, show_default=True, type=PORT, help="human: port of the labelling page.")
@json_option()
@out_option()
@eval_episodes_option()
@click.option("--no-pictures", is_flag=True, help="Skip the GIFs and the curve PNGs.")
def rlhf_command(scenario, evaluator, labels_text, labels_per_round, pretrain_labels, seeds, seed, fixes, settings,
                 rationality, mistake_rate, random_queries, baseline, store_url, port, as_json, out, eval_episodes,
                 no_pictures):
    """Train SCENARIO by RLHF: clips -> EVALUATOR's comparisons -> reward model -> PPO, repeated."""
    from specgym.cli_options import check_store_url, parse_fixes, scenario_overrides
    from specgym.run_dir import dumps
    from specgym.runners.rlhf import rlhf_config, run_rlhf

    found = get(scenario)
    labels = parse_budgets(labels_text) if labels_text is not None else None
    cfg, trainer = rlhf_config(found, labels, labels_per_round, pretrain_labels, random_queries)
    if evaluator == "human" and (seeds > 1 or len(cfg.labels) > 1):
        raise ScenarioError("the human evaluator labels for one agent: use --seeds 1 and a single --labels value")
    if evaluator == "human" and store_url is not None:
        check_store_url(store_url)
    overrides = {**trainer, **scenario_overrides(found, settings)}
    summary = run_rlhf(found, evaluator, cfg, overrides, parse_fixes(fixes), seeds=seeds,
                       seed=seed, out_root=Path(out), eval_episodes=eval_episodes, pictures=not no_pictures,
                       baseline=baseline, noise={"rationality": rationality, "mistake_rate": mistake_rate},
                       human={"store_url": store_url, "port": port}, progress=not as_json)
    click.echo(dumps(summary, indent=2) if as_json else format_rlhf(summary))
    if summary.get("interrupted"):
        sys.exit(130)


COMMAND = rlhf_command
