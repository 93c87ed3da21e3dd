"""``specgym rlhf``'s run: train a scenario from an evaluator's comparisons, evaluate, write the run directory.

The run directory and score table are those of ``specgym run`` (the table's
specified reward is still the scenario's, so the two commands compare line by
line), plus what only a learned reward has: the score the evaluator would give,
the reward model's accuracy on held-out pairs and the correlation of learned
and intended returns, per label budget (several budgets train side by side and
give the labels-needed curve, ``labels_curve.png``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from specgym import compile_options
from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_split
from specgym.feedback import evaluators as ev
from specgym.learn.rlhf import RLHFConfig, heldout_metrics, train_rlhf
from specgym.progress import Progress
from specgym.references import split_references
from specgym.report.curves import plot_training
from specgym.report.episodes import record_episode, save_gif
from specgym.report.labels_curve import plot_labels_curve
from specgym.results import RunSummary
from specgym.rl.ppo import make_train
from specgym.run import EPISODE_STREAM
from specgym.run_dir import RunDir, jsonable
from specgym.scenarios import get
from specgym.scenarios.base import LEVERS, Scenario
from specgym.stats import summarize


def make_evaluator(name: str, scenario_id: str, setup, rationality: float, mistake_rate: float, human: dict):
    """The evaluator called ``name``: a table of simulated ones plus the scenario's registered views."""
    env, params = setup.env, setup.train_params
    noise = {"rationality": rationality, "mistake_rate": mistake_rate}
    table = {
        "oracle": lambda: ev.oracle(env),
        "noisy": lambda: dataclasses.replace(ev.oracle(env, **noise), name="noisy"),
        **{view: (lambda v=view, spec=spec: ev.view_evaluator(v, spec, params)) for view, spec in
           get(scenario_id).views.items()},
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


def rlhf_config(scenario: Scenario, labels: Sequence[int] | None = None, labels_per_round: int | None = None,
                pretrain_labels: int | None = None, random_queries: bool = False) -> tuple[RLHFConfig, dict]:
    """The loop's configuration and trainer settings: what is given, else the scenario's recommendation."""
    fields, trainer = scenario.rlhf.copies()
    if labels is not None:
        budgets = tuple(sorted({int(budget) for budget in labels}))
        if not budgets or budgets[0] < 1:
            raise ScenarioError(f"label budgets must be positive integers, got {labels!r}")
        fields["labels"] = budgets
    given = {"labels_per_round": labels_per_round, "pretrain_labels": pretrain_labels}
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


def rlhf_scenario(scenario: Scenario | str, labels: Sequence[int] | None = None, evaluator: str = "oracle", *,
                  labels_per_round: int | None = None, pretrain_labels: int | None = None, overrides: dict | None = None, fixes: dict | None = None,
                  seeds: int = 4, seed: int = 0, out_root: Path | str = "runs", eval_episodes: int = 64,
                  pictures: bool = True, baseline: bool = False, progress: bool = True) -> RunSummary:
    """Train a scenario by RLHF from an evaluator's comparisons of clips; return the summary.

    The Python form of `specgym rlhf SCENARIO --json`: every label budget trains `seeds` agents side by
    side, each evaluated like `specgym run` on the intended reward, and the summary's `rlhf` part holds the
    per-budget results (intended score, the reward model's held-out agreement with the evaluator).

    Args:
        scenario: A `Scenario` or its id.
        labels: Label budgets, e.g. `(25, 100, 400)`; None takes the scenario's recommendation.
        evaluator: `oracle` (intended reward, exact), `noisy`, or a limited view the scenario declares.
        labels_per_round: Comparisons asked per round; None takes the scenario's recommendation.
        pretrain_labels: Comparisons asked before the agent first trains; None takes the scenario's.
        overrides: Scenario settings and trainer fields, e.g. `{"total_steps": 1024}`.
        fixes: `{lever: fix name}` applied before training.
        seeds: Agents per label budget.
        seed: Master seed.
        out_root: Parent of the run directory.
        eval_episodes: Evaluation episodes per seed and split.
        pictures: Write GIFs and plots.
        baseline: Also train PPO on the intended reward with the same number of steps.
        progress: Show a progress bar.
    """
    found = get(scenario) if isinstance(scenario, str) else scenario
    cfg, trainer = rlhf_config(found, labels, labels_per_round, pretrain_labels)
    return run_rlhf(found, evaluator, cfg, {**trainer, **(overrides or {})}, fixes or {}, seeds=seeds, seed=seed,
                    out_root=Path(out_root), eval_episodes=eval_episodes, pictures=pictures, baseline=baseline,
                    progress=progress)


def run_rlhf(scenario: Scenario, evaluator_name: str, cfg: RLHFConfig, overrides: dict, fixes: dict, seeds: int = 4,
             seed: int = 0, out_root: Path = Path("runs"), eval_episodes: int = 64, pictures: bool = True,
             baseline: bool = False, noise: dict | None = None, human: dict | None = None,
             progress: bool = True) -> RunSummary:
    """Train by RLHF, evaluate like ``specgym run``, write the run directory, return the summary."""
    started = time.perf_counter()
    fixes = {lever: (fixes or {}).get(lever) for lever in LEVERS}
    setup = scenario.setup(overrides or {}, fixes)
    run_dir = RunDir.create(out_root, scenario.id)
    noise = noise or {"rationality": 1.0, "mistake_rate": 0.1}
    evaluator = make_evaluator(evaluator_name, scenario.id, setup, noise["rationality"], noise["mistake_rate"],
                               {**(human or {}), "run_dir": run_dir.path, "budget": max(cfg.labels)})
    config = {"scenario": scenario.id, "evaluator": evaluator_name, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": {**scenario.resolve_settings(overrides or {}), **jsonable(dataclasses.asdict(setup.trainer))},
              "rlhf": jsonable(dataclasses.asdict(cfg)), "noise": noise, "eval_episodes": eval_episodes}
    run_dir.write_json("config.json", config)

    key_train, key_eval, key_heldout, key_gif = jax.random.split(jax.random.PRNGKey(seed), 4)
    bar = Progress(cfg.rounds, unit="rounds", label=f"{scenario.id} rlhf ({evaluator_name})", enabled=progress)
    interrupted = False
    with run_dir.metrics() as log:
        def on_round(index, row):
            for agent in range(len(row["labels_asked"])):
                entry = {"round": index, "env_steps": row["env_steps"], "agent": agent,
                         "budget": cfg.labels[agent // seeds], "seed": agent % seeds}
                entry.update({k: float(v[agent]) for k, v in row.items() if isinstance(v, np.ndarray)})
                log.append(entry)
            log.flush()
            if index == 0:
                bar.mark(1)
            bar.update(index + 1)

        try:
            result = train_rlhf(setup.env, setup.train_params, setup.trainer, cfg, evaluator, seeds, key_train,
                                on_round)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"the rounds so far are in {run_dir.path}/metrics.jsonl") from None
        finally:
            bar.close()

    nets = result.agents["runner"].net
    references = {s: split_references(setup.env, p) for s, p in
                  (("train", setup.train_params), ("deploy", setup.deploy_params))}
    judged = getattr(evaluator, "judged_reward", None)
    judged_env = setup.env.with_rewards(specified=judged) if judged is not None else None
    judged_ref = split_references(judged_env, setup.train_params)["specified"] if judged_env else None
    heldout = heldout_metrics(result, evaluator, key_heldout)
    per_budget: dict[str, dict] = {}
    top_splits: dict = {}
    for b, budget in enumerate(cfg.labels):
        agents = slice(b * seeds, (b + 1) * seeds)
        mine = jax.tree_util.tree_map(lambda x, agents=agents: x[agents], nets)
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
            part = values[agents]
            row[name] = summarize(part) if np.isfinite(part).any() else None
        per_budget[str(budget)] = row
        top_splits = splits

    info = {"evaluator": evaluator_name, "labels": list(cfg.labels), "per_budget": per_budget,
            "evaluator_reward": getattr(judged, "name", None), "rounds": cfg.rounds}
    if baseline:
        info["baseline"] = _baseline_score(setup, seeds, key_train, key_eval, references["train"], eval_episodes)
    env_steps = result.history[-1]["env_steps"] if result.history else 0
    summary: RunSummary = {
        "scenario": scenario.id, "seeds": seeds, "seed": seed, "env_steps": env_steps, "wall_seconds": None,
        "compile_seconds": 0.0, "interrupted": interrupted, "fixes": fixes, "settings": config["settings"],
        "available_fixes": scenario.available_fixes(), "specified_reward": getattr(setup.env.specified_reward, "name", repr(setup.env.specified_reward)),
        "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
        "events_shown": list(scenario.events), "splits": top_splits, "rlhf": info, "run_dir": str(run_dir),
    }
    if pictures:
        first = jax.tree_util.tree_map(lambda x: x[(len(cfg.labels) - 1) * seeds], nets)
        for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
            frames = record_episode(setup.env, params, first, jax.random.fold_in(key_gif, EPISODE_STREAM[split]))
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
    run_dir.write_json("summary.json", summary)
    return summary


def _baseline_score(setup, seeds, key_train, key_eval, reference, eval_episodes) -> dict:
    """Intended score of PPO trained directly on the intended reward, same env steps and seeds."""
    honest = setup.with_specified(setup.env.intended_reward)
    env = honest.env
    train = jax.jit(jax.vmap(make_train(setup.trainer, *honest.training())),
                    compiler_options=compile_options.for_training(setup.trainer.num_updates * seeds))
    runner, _ = train(jax.random.split(key_train, seeds))
    refs = {"specified": reference["intended"], "intended": reference["intended"]}
    return evaluate_split(env, setup.train_params, runner.net, key_eval, refs, eval_episodes)["intended_score"]
