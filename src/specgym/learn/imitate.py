"""``specgym imitate``: learn a scenario from demonstrations, evaluate like ``specgym run``, write a run directory.

The run directory holds what a PPO run's does (``config.json``,
``summary.json``, ``train.gif`` / ``deploy.gif``) plus ``demos.npz`` (the
demonstrations used, see ``learn.demos``) and the method's own figures. Each
method is one entry of ``METHODS``: a function from the run's context to a
:class:`Learned` (an action function, the policies batched over seeds, and
method metrics); adding a method is adding an entry.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

from specgym.diagnose.metrics import summarize
from specgym.learn import bc, dagger, procedure_cloning
from specgym.learn.demos import Demos, expert_demos
from specgym.learn.imitation_specs import ImitationSpec, imitation_spec
from specgym.learn.rollouts import Act, evaluate_policy, mlp_act, record_frames
from specgym.references import split_references
from specgym.report.episodes import save_gif
from specgym.run import make_run_dir
from specgym.scenarios.base import LEVERS, Scenario, ScenarioError


@dataclasses.dataclass
class Context:
    """Everything a method may use."""

    scenario: Scenario
    setup: Any
    spec: ImitationSpec
    demos: Demos
    key: jax.Array
    seeds: int
    run_dir: Path
    progress: bool

    def expert_params(self, params):
        return self.spec.expert_view(params) if self.spec.expert_view else params


@dataclasses.dataclass
class Learned:
    act: Act
    policies: Any
    metrics: dict
    """Method metrics: name -> summarize(...) per seed, or plain JSON values."""
    learner_env_steps: int = 0
    """Environment steps the learner took itself while training (DAgger's rollouts; 0 for pure cloning)."""


def _labels(ctx: Context) -> Demos:
    """The demonstrations cut to the label budget (the same data for BC and the BC it is compared with)."""
    budget = ctx.spec.label_budget
    if budget is None or budget >= len(ctx.demos):
        return ctx.demos
    d = ctx.demos
    return dataclasses.replace(d, obs=d.obs[:budget], actions=d.actions[:budget], levels=d.levels[:budget],
                               episodes=d.episodes[:budget], steps=d.steps[:budget])


def _compounding(ctx: Context, nets) -> dict:
    rates = dagger.disagreement(ctx.setup.env, ctx.setup.train_params, nets, jax.random.fold_in(ctx.key, 7),
                                expert_params=ctx.expert_params(ctx.setup.train_params))
    return {f"disagreement_{k}": summarize(v) for k, v in rates.items()}


def learn_bc(ctx: Context) -> Learned:
    demos = _labels(ctx)
    nets, fit = bc.clone(bc.BCConfig(), demos, ctx.setup.env.num_actions, ctx.key, ctx.seeds)
    metrics = {"expert_labels": len(demos), "train_accuracy": summarize(fit["accuracy"]), **_compounding(ctx, nets)}
    return Learned(mlp_act, nets, metrics)


def learn_dagger(ctx: Context) -> Learned:
    budget = len(_labels(ctx))
    config = dagger.DAggerConfig(label_budget=budget)
    nets, _ = dagger.dagger(ctx.setup.env, ctx.setup.train_params, ctx.key, ctx.seeds, config,
                            expert_params=ctx.expert_params(ctx.setup.train_params))
    baseline = learn_bc(ctx)
    metrics = {"expert_labels": budget, **_compounding(ctx, nets),
               "bc_same_budget": _evaluate_both(ctx, baseline)}
    horizon = int(np.asarray(ctx.setup.train_params.max_steps))
    return Learned(mlp_act, nets, metrics, (config.rounds - 1) * config.episodes_per_round * horizon)


def learn_pc(ctx: Context) -> Learned:
    side = ctx.spec.board_side
    if side is None:
        raise ScenarioError(f"--method pc needs a maze scenario with a search expert (bfs-maze), not {ctx.scenario.id}")
    demos = _labels(ctx)
    policies, fit = procedure_cloning.clone_procedure(procedure_cloning.PCConfig(), demos, side,
                                                      ctx.setup.env.num_actions, ctx.key, ctx.seeds)
    baseline = learn_bc(ctx)
    metrics = {"expert_labels": len(demos), "trace_step_accuracy": summarize(fit["step_accuracy"]),
               "bc_same_demos": _evaluate_both(ctx, baseline)}
    return Learned(procedure_cloning.make_act(side), policies, metrics)


def learn_irl(ctx: Context) -> Learned:
    from specgym.learn import maxent_irl

    if ctx.spec.irl is None:
        raise ScenarioError(f"--method irl needs a scenario with a planted state reward (reward-grid), not {ctx.scenario.id}")
    return maxent_irl.learn_for_run(ctx)


METHODS: dict[str, Callable[[Context], Learned]] = {"bc": learn_bc, "dagger": learn_dagger, "pc": learn_pc,
                                                     "irl": learn_irl}


def _evaluate_both(ctx: Context, learned: Learned, episodes: int = 64) -> dict:
    """Intended score and the first event's rate of a comparison learner on both splits."""
    out = {}
    for split, params in (("train", ctx.setup.train_params), ("deploy", ctx.setup.deploy_params)):
        res = evaluate_policy(ctx.setup.env, params, learned.act, learned.policies, jax.random.fold_in(ctx.key, 11),
                              split_references(ctx.setup.env, params), episodes)
        out[split] = {"intended_score": res["intended_score"],
                      "event_rates": {k: v["episode_rate"] for k, v in res["events"].items()}}
    return out


def _compile_timer():
    """Seconds JAX spends compiling from now on (its own monitoring events)."""
    total = [0.0]

    def listener(event, duration, **kwargs):
        if "compile" in event:
            total[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listener)
    return total


def run_imitation(scenario: Scenario, method: str, overrides: dict | None = None, fixes: dict | None = None,
                  seeds: int = 8, seed: int = 0, demos_path: str | None = None, demo_episodes: int | None = None,
                  out_root: Path = Path("runs"), eval_episodes: int = 64, progress: bool = True,
                  pictures: bool = True) -> dict:
    """Demonstrate, learn with ``method`` on ``seeds`` seeds, evaluate both splits, write the run directory."""
    started = time.perf_counter()
    compile_seconds = _compile_timer()
    if method not in METHODS:
        raise ScenarioError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if seeds < 1:
        raise ScenarioError(f"--seeds must be at least 1, not {seeds}")
    fixes = {lever: (fixes or {}).get(lever) for lever in LEVERS}
    setup = scenario.setup(overrides or {}, fixes)
    spec = imitation_spec(scenario.id)
    key_demo, key_learn, key_eval, key_gif = jax.random.split(jax.random.PRNGKey(seed), 4)
    episodes = demo_episodes or spec.demo_episodes
    if demos_path:
        demos = Demos.load(demos_path)
        expected = setup.env.observation_space(setup.train_params).shape[0]
        if demos.obs.shape[1] != expected:
            raise ScenarioError(f"{demos_path!r} holds observations of size {demos.obs.shape[1]}; "
                                f"{scenario.id} needs {expected}")
    elif spec.demonstrator is not None:
        demos = spec.demonstrator(setup.env, setup.train_params, key_demo, episodes, scenario.id)
    else:
        demos = expert_demos(setup.env, setup.train_params, key_demo, episodes,
                             spec.expert_view(setup.train_params) if spec.expert_view else None,
                             env_id=scenario.id)
    run_dir = make_run_dir(Path(out_root), f"{scenario.id}-{method}")
    config = {"scenario": scenario.id, "method": method, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": scenario.resolve_settings(overrides or {}), "demos": demos_path or "generated",
              "demo_episodes": int(demos.meta.get("episodes", 0)), "eval_episodes": eval_episodes}
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))
    demos.save(run_dir / "demos.npz")

    ctx = Context(scenario, setup, spec, demos, key_learn, seeds, run_dir, progress)
    learned = METHODS[method](ctx)
    splits = {}
    for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
        splits[split] = evaluate_policy(setup.env, params, learned.act, learned.policies, key_eval,
                                        split_references(setup.env, params), eval_episodes)
    summary = {
        "scenario": scenario.id, "method": method, "seeds": seeds, "seed": seed,
        "env_steps": learned.learner_env_steps, "demonstrated_states": len(demos), "wall_seconds": None,
        "compile_seconds": None, "interrupted": False, "fixes": fixes, "settings": config["settings"],
        "available_fixes": scenario.available_fixes(),
        "specified_reward": getattr(setup.env.specified_reward, "name", repr(setup.env.specified_reward)),
        "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
        "events_shown": list(scenario.events), "splits": splits, "method_metrics": learned.metrics,
        "run_dir": str(run_dir),
    }
    if pictures:
        first = jax.tree_util.tree_map(lambda x: x[0], learned.policies)
        for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
            frames = record_frames(setup.env, params, learned.act, first, jax.random.fold_in(key_gif, len(split)))
            save_gif(frames, run_dir / f"{split}.gif", f"{scenario.id} {method} - {split}")
    summary["compile_seconds"] = compile_seconds[0]
    summary["wall_seconds"] = time.perf_counter() - started
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def format_method_metrics(summary: dict) -> str:
    """The method's own numbers, one per line, under the score table."""
    lines = [f"method: {summary['method']} on {summary['demonstrated_states']:,} demonstrated states"]

    def walk(prefix, value):
        if isinstance(value, dict) and "iqm" in value:
            low, high = value["ci95"]
            lines.append(f"  {prefix:<44s}{value['iqm']:8.3f}  [{low:.3f}, {high:.3f}]")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix} {k}".strip(), v)
        elif isinstance(value, (int, float)):
            lines.append(f"  {prefix:<44s}{value:8.3f}" if isinstance(value, float) else f"  {prefix:<44s}{value:8d}")
        elif isinstance(value, str):
            lines.append(f"  {prefix:<44s}{value}")

    walk("", summary["method_metrics"])
    return "\n".join(lines)
