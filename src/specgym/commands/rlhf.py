"""``specgym rlhf``: train a scenario from an evaluator's comparisons instead of its specified reward.

The run directory and score table are those of ``specgym run`` (the table's
specified reward is still the scenario's, so the two commands compare line by
line), plus what only a learned reward has: the score the evaluator would give,
the reward model's accuracy on held-out pairs and the correlation of learned
and intended returns. Several label budgets (``--labels 25,50,100,200``) train
side by side and give the labels-needed curve.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import click
import jax
import numpy as np

from specgym.cli_options import (FINITE_FLOAT, PORT, eval_episodes_option, finite_float, fix_option, json_option,
                                 out_option, seed_option, seeds_option, set_option)
from specgym.errors import ScenarioError
from specgym.scenarios import LEVERS, get

EVALUATOR_HELP = ("oracle (intended reward, exact), noisy (intended reward, Boltzmann + mistakes), "
                  "a limited view the scenario registers (camera-grasp: camera, second-camera), or human (a web page)")


def parse_budgets(text: str) -> tuple[int, ...]:
    try:
        budgets = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise ScenarioError(f"--labels takes positive integers separated by commas, got {text!r}") from None
    if not budgets or budgets[0] < 1:
        raise ScenarioError(f"--labels takes positive integers separated by commas, got {text!r}")
    return budgets


def make_evaluator(name: str, scenario_id: str, setup, rationality: float, mistake_rate: float, human: dict):
    """The evaluator called ``name``: a table of simulated ones plus the scenario's registered views."""
    from specgym.feedback import evaluators as ev

    env, params = setup.env, setup.train_params
    noise = {"rationality": rationality, "mistake_rate": mistake_rate}
    table = {
        "oracle": lambda: ev.oracle(env),
        "noisy": lambda: dataclasses.replace(ev.oracle(env, **noise), name="noisy"),
        **{view: (lambda v=view, spec=spec: ev.view_evaluator(v, spec, params)) for view, spec in
           ev.views_of(scenario_id).items()},
        "human": lambda: _human(env, params, human),
    }
    if name not in table:
        raise ScenarioError(f"unknown evaluator {name!r} for {scenario_id}; valid: {', '.join(table)}")
    return table[name]()


def _human(env, params, options: dict):
    try:
        from specgym.feedback.human import HumanEvaluator
    except ImportError as error:
        raise ScenarioError(f"the human evaluator is not available: {error}") from None
    return HumanEvaluator(env, params, options["run_dir"], store_url=options.get("store_url"),
                          port=options.get("port", 8765), budget=options.get("budget"))


def loop_config(scenario_id: str, labels_text, labels_per_round, pretrain_labels, random_queries: bool = False):
    """The RLHFConfig and trainer settings of a run: what is given, else the scenario's recommendation."""
    from specgym.learn.rlhf import RLHFConfig, recommended

    fields, trainer = recommended(scenario_id)
    given = {"labels": parse_budgets(labels_text) if labels_text is not None else None,
             "labels_per_round": labels_per_round, "pretrain_labels": pretrain_labels}
    fields.update({k: v for k, v in given.items() if v is not None})
    if pretrain_labels is None and "pretrain_labels" in fields:
        # a recommendation made for its own budget asks at most half of a smaller one before training
        fields["pretrain_labels"] = min(fields["pretrain_labels"], max(fields.get("labels", RLHFConfig.labels)) // 2)
    if random_queries:
        fields["candidates_per_query"] = 1
    cfg = RLHFConfig(**fields)
    try:
        cfg.check()
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    return cfg, trainer


# ----- the run ---------------------------------------------------------------------------
def run_rlhf(scenario, evaluator_name: str, cfg, overrides: dict, fixes: dict, seeds: int = 4, seed: int = 0,
             out_root: Path = Path("runs"), eval_episodes: int = 64, pictures: bool = True, baseline: bool = False,
             noise: dict | None = None, human: dict | None = None, progress: bool = True) -> dict:
    """Train by RLHF, evaluate like ``specgym run``, write the run directory, return the summary."""
    from specgym.stats import summarize
    from specgym.evaluation import evaluate_split
    from specgym.learn.rlhf import heldout_metrics, train_rlhf
    from specgym.progress import Progress
    from specgym.references import split_references
    from specgym.report.curves import plot_training
    from specgym.report.episodes import record_episode, save_gif
    from specgym.run import make_run_dir

    started = time.perf_counter()
    fixes = {lever: (fixes or {}).get(lever) for lever in LEVERS}
    setup = scenario.setup(overrides or {}, fixes)
    run_dir = make_run_dir(Path(out_root), scenario.id)
    noise = noise or {"rationality": 1.0, "mistake_rate": 0.1}
    evaluator = make_evaluator(evaluator_name, scenario.id, setup, noise["rationality"], noise["mistake_rate"],
                               {**(human or {}), "run_dir": run_dir, "budget": max(cfg.labels)})
    config = {"scenario": scenario.id, "evaluator": evaluator_name, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": {**scenario.resolve_settings(overrides or {}), **_plain(dataclasses.asdict(setup.trainer))},
              "rlhf": _plain(dataclasses.asdict(cfg)), "noise": noise, "eval_episodes": eval_episodes}
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))

    key_train, key_eval, key_heldout, key_gif = jax.random.split(jax.random.PRNGKey(seed), 4)
    bar = Progress(cfg.rounds, unit="rounds", label=f"{scenario.id} rlhf ({evaluator_name})", enabled=progress)
    interrupted = False
    with (run_dir / "metrics.jsonl").open("w") as log:
        def on_round(index, row):
            for agent in range(len(row["labels_asked"])):
                entry = {"round": index, "env_steps": row["env_steps"], "agent": agent,
                         "budget": cfg.labels[agent // seeds], "seed": agent % seeds}
                entry.update({k: _finite(v[agent]) for k, v in row.items() if isinstance(v, np.ndarray)})
                log.write(json.dumps(entry) + "\n")
            log.flush()
            if index == 0:
                bar.mark(1)
            bar.update(index + 1)

        try:
            result = train_rlhf(setup.env, setup.train_params, setup.trainer, cfg, evaluator, seeds, key_train,
                                on_round)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"the rounds so far are in {run_dir}/metrics.jsonl") from None
        finally:
            bar.close()

    nets = result.agents["runner"].net
    references = {s: split_references(setup.env, p) for s, p in
                  (("train", setup.train_params), ("deploy", setup.deploy_params))}
    judged = getattr(evaluator, "judged_reward", None)
    judged_env = setup.env.with_rewards(specified=judged) if judged is not None else None
    judged_ref = split_references(judged_env, setup.train_params)["specified"] if judged_env else None
    heldout = heldout_metrics(result, evaluator, key_heldout)
    per_budget, top_splits = {}, {}
    for b, budget in enumerate(cfg.labels):
        mine = jax.tree_util.tree_map(lambda x: x[b * seeds:(b + 1) * seeds], nets)
        splits = {s: evaluate_split(setup.env, p, mine, key_eval, references[s], eval_episodes)
                  for s, p in (("train", setup.train_params), ("deploy", setup.deploy_params))}
        row = {"intended_score": splits["train"]["intended_score"],
               "deploy_intended_score": splits["deploy"]["intended_score"]}
        if judged_env is not None:
            judged_split = evaluate_split(judged_env, setup.train_params, mine, key_eval,
                                          {"specified": judged_ref, "intended": references["train"]["intended"]},
                                          eval_episodes)
            row["evaluator_score"] = judged_split["specified_score"]
        for name, values in heldout.items():
            part = values[b * seeds:(b + 1) * seeds]
            row[name] = summarize(part) if np.isfinite(part).any() else None
        per_budget[str(budget)] = row
        top_splits = splits

    info = {"evaluator": evaluator_name, "labels": list(cfg.labels), "per_budget": per_budget,
            "evaluator_reward": getattr(judged, "name", None), "rounds": cfg.rounds}
    if baseline:
        info["baseline"] = _baseline_score(setup, seeds, key_train, key_eval, references["train"], eval_episodes)
    env_steps = result.history[-1]["env_steps"] if result.history else 0
    summary = {
        "scenario": scenario.id, "seeds": seeds, "seed": seed, "env_steps": env_steps, "wall_seconds": None,
        "compile_seconds": 0.0, "interrupted": interrupted, "fixes": fixes, "settings": config["settings"],
        "available_fixes": scenario.available_fixes(), "specified_reward": setup.env.specified_reward.name
        if hasattr(setup.env.specified_reward, "name") else repr(setup.env.specified_reward),
        "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
        "events_shown": list(scenario.events), "splits": top_splits, "rlhf": info, "run_dir": str(run_dir),
    }
    if pictures:
        first = jax.tree_util.tree_map(lambda x: x[(len(cfg.labels) - 1) * seeds], nets)
        for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
            frames = record_episode(setup.env, params, first, jax.random.fold_in(key_gif, len(split)))
            save_gif(frames, run_dir / f"{split}.gif", f"{scenario.id} rlhf ({evaluator_name}) - {split}")
        top = slice((len(cfg.labels) - 1) * seeds, len(cfg.labels) * seeds)
        steps = [row["env_steps"] for row in result.history]
        clip_returns = {w: np.stack([row[f"clip_{w}_return"][top] for row in result.history], 1)
                        for w in ("specified", "intended")}
        plot_training(steps, clip_returns["specified"], clip_returns["intended"], references["train"],
                      run_dir / "curves.png", f"{scenario.id}: rlhf ({evaluator_name}), clips of each round")
        if len(cfg.labels) > 1:
            plot_labels_curve(per_budget, info.get("baseline"), run_dir / "labels_curve.png",
                              f"{scenario.id}: labels needed ({evaluator_name} evaluator, {seeds} seeds)")
    summary["wall_seconds"] = time.perf_counter() - started
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _baseline_score(setup, seeds, key_train, key_eval, reference, eval_episodes) -> dict:
    """Intended score of PPO trained directly on the intended reward, same env steps and seeds."""
    from specgym.evaluation import evaluate_split
    from specgym.rl.ppo import make_train

    env = setup.env.with_rewards(specified=setup.env.intended_reward)
    train = jax.jit(jax.vmap(make_train(setup.trainer, env, setup.train_params)))
    runner, _ = train(jax.random.split(key_train, seeds))
    refs = {"specified": reference["intended"], "intended": reference["intended"]}
    return evaluate_split(env, setup.train_params, runner.net, key_eval, refs, eval_episodes)["intended_score"]


def plot_labels_curve(per_budget: dict, baseline: dict | None, path: Path, title: str) -> None:
    """Intended score (IQM and 95% CI over seeds) against the number of comparisons."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = [int(b) for b in per_budget]
    rows = list(per_budget.values())
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=110)
    # the oracle's score is the intended one: draw it once
    same = all(row.get("evaluator_score") and row["evaluator_score"]["per_seed"] == row["intended_score"]["per_seed"]
               for row in rows)
    for key, colour, label in (("evaluator_score", "tab:orange", "score the evaluator gives"),
                               ("intended_score", "tab:blue", "intended score (train levels)")):
        if all(row.get(key) for row in rows) and not (same and key == "evaluator_score"):
            iqm = [row[key]["iqm"] for row in rows]
            low = [row[key]["ci95"][0] for row in rows]
            high = [row[key]["ci95"][1] for row in rows]
            ax.fill_between(budgets, low, high, color=colour, alpha=0.18)
            ax.plot(budgets, iqm, "o-", color=colour, lw=2, label=label)
            for b, row in zip(budgets, rows):
                ax.scatter([b] * len(row[key]["per_seed"]), row[key]["per_seed"], color=colour, s=8, alpha=0.5)
    if baseline:
        ax.axhline(baseline["iqm"], color="tab:green", ls="--", label="PPO on the intended reward (IQM)")
        ax.axhspan(*baseline["ci95"], color="tab:green", alpha=0.1)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.set_xlabel("comparisons (labels) per agent")
    ax.set_ylabel("normalised score (0 random, 1 optimal)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _finite(value):
    value = float(value)
    return value if np.isfinite(value) else None


def format_rlhf(summary: dict) -> str:
    from specgym.cli import format_stat, format_table

    info = summary["rlhf"]
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

    found = get(scenario)
    cfg, trainer = loop_config(found.id, labels_text, labels_per_round, pretrain_labels, random_queries)
    if evaluator == "human" and (seeds > 1 or len(cfg.labels) > 1):
        raise ScenarioError("the human evaluator labels for one agent: use --seeds 1 and a single --labels value")
    if evaluator == "human" and store_url is not None:
        check_store_url(store_url)
    overrides = {**trainer, **scenario_overrides(found, settings)}
    summary = run_rlhf(found, evaluator, cfg, overrides, parse_fixes(fixes), seeds=seeds,
                       seed=seed, out_root=Path(out), eval_episodes=eval_episodes, pictures=not no_pictures,
                       baseline=baseline, noise={"rationality": rationality, "mistake_rate": mistake_rate},
                       human={"store_url": store_url, "port": port}, progress=not as_json)
    click.echo(json.dumps(summary, indent=2) if as_json else format_rlhf(summary))
    if summary.get("interrupted"):
        sys.exit(130)


COMMAND = rlhf_command
