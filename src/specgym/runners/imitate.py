"""``specgym imitate``: learn a scenario from demonstrations, evaluate like ``specgym run``, write a run directory.

The run directory holds what a PPO run's does (``config.json``,
``summary.json``, ``train.gif`` / ``deploy.gif``) plus ``demos.npz`` (the
demonstrations used, see ``learn.demos``) and the method's own figures. The
methods are the entries of ``runners.imitation_methods.METHODS``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax

from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_policy
from specgym.learn.demos import Demos, expert_demos
from specgym.progress import Progress
from specgym.references import split_references
from specgym.report.episodes import record_episode, save_gif
from specgym.results import RunSummary
from specgym.rollout import per_episode
from specgym.run import EPISODE_STREAM
from specgym.run_dir import RunDir, check_writable_dir
from specgym.runners.imitation_methods import LEARN_STAGES, METHODS, NEEDS, Context
from specgym.scenarios.base import LEVERS, Scenario


def _compile_timer():
    """Seconds JAX spends compiling from now on (its own monitoring events)."""
    total = [0.0]

    def listener(event: str, duration_secs: float, **kwargs):
        if "compile" in event:
            total[0] += duration_secs

    jax.monitoring.register_event_duration_secs_listener(listener)
    return total


def _demonstrations(scenario, setup, spec, key, episodes: int, demos_path: str | None) -> Demos:
    if demos_path:
        demos = Demos.load(demos_path)
        expected = setup.env.observation_space(setup.train_params).shape[0]
        if demos.obs.shape[1] != expected:
            raise ScenarioError(f"{demos_path!r} holds observations of size {demos.obs.shape[1]}; "
                                f"{scenario.id} needs {expected}")
        return demos
    if spec.demonstrator is not None:
        return spec.demonstrator(setup.env, setup.train_params, key, episodes, scenario.id)
    return expert_demos(setup.env, setup.train_params, key, episodes,
                        spec.expert_view(setup.train_params) if spec.expert_view else None, env_id=scenario.id)


def run_imitation(scenario: Scenario, method: str, overrides: dict | None = None, fixes: dict | None = None,
                  seeds: int = 8, seed: int = 0, demos_path: str | None = None, demo_episodes: int | None = None,
                  out_root: Path = Path("runs"), eval_episodes: int = 64, progress: bool = True,
                  pictures: bool = True, label_budget: int | None = None) -> RunSummary:
    """Demonstrate, learn with ``method`` on ``seeds`` seeds, evaluate both splits, write the run directory.

    Files are written as they are produced (config, demonstrations, the method's
    figures, the summary, then the GIFs). Ctrl-C while DAgger retrains keeps its
    last policy and evaluates it (``interrupted`` in the summary); Ctrl-C elsewhere
    stops the run with what was written so far.
    """
    started = time.perf_counter()
    compile_seconds = _compile_timer()
    if method not in METHODS:
        raise ScenarioError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if seeds < 1:
        raise ScenarioError(f"--seeds must be at least 1, not {seeds}")
    if label_budget is not None and label_budget < 4:
        raise ScenarioError(f"--label-budget must be at least 4, not {label_budget}")
    fixes = {lever: (fixes or {}).get(lever) for lever in LEVERS}
    setup = scenario.setup(overrides or {}, fixes)
    spec = scenario.imitation
    if method in NEEDS and getattr(spec, NEEDS[method][0]) is None:
        raise ScenarioError(f"--method {method} needs {NEEDS[method][1]}, not {scenario.id}")
    stages = 1 + LEARN_STAGES.get(method, 1) + 2 + (2 if pictures else 0)
    key_demo, key_learn, key_eval, key_gif = jax.random.split(jax.random.PRNGKey(seed), 4)
    check_writable_dir(out_root)  # before demonstrating, which can take a while
    demos = _demonstrations(scenario, setup, spec, key_demo, demo_episodes or spec.demo_episodes, demos_path)
    run_dir = RunDir.create(out_root, f"{scenario.id}-{method}")
    budget = label_budget if label_budget is not None else spec.label_budget
    config = {"scenario": scenario.id, "method": method, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": scenario.resolve_settings(overrides or {}), "demos": demos_path or "generated",
              "demo_episodes": int(demos.meta.get("episodes", 0)), "label_budget": budget,
              "eval_episodes": eval_episodes}
    run_dir.write_json("config.json", config)
    demos.save(run_dir / "demos.npz")

    bar = Progress(stages, unit="stages", label=f"{scenario.id} {method}", enabled=progress)
    ctx = Context(scenario, setup, spec, demos, key_learn, seeds, run_dir.path, bar, budget, eval_episodes)
    try:
        ctx.tick()
        learned = METHODS[method](ctx)
        ctx.done = LEARN_STAGES.get(method, 1)
        ctx.tick()
        splits = {}
        for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
            splits[split] = evaluate_policy(setup.env, params, per_episode(learned.act), learned.policies, key_eval,
                                            split_references(setup.env, params), eval_episodes)
            ctx.tick()
        summary: RunSummary = {
            "scenario": scenario.id, "method": method, "seeds": seeds, "seed": seed,
            "env_steps": learned.learner_env_steps, "demonstrated_states": len(demos), "wall_seconds": None,
            "compile_seconds": None, "interrupted": ctx.interrupted, "fixes": fixes, "settings": config["settings"],
            "available_fixes": scenario.available_fixes(),
            "specified_reward": getattr(setup.env.specified_reward, "name", repr(setup.env.specified_reward)),
            "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
            "events_shown": list(scenario.events), "splits": splits, "method_metrics": learned.metrics,
            "run_dir": str(run_dir),
        }

        def write_summary():
            summary["compile_seconds"] = compile_seconds[0]
            summary["wall_seconds"] = time.perf_counter() - started
            run_dir.write_json("summary.json", summary)

        write_summary()
        if pictures:
            first = jax.tree_util.tree_map(lambda x: x[0], learned.policies)
            for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
                frames = record_episode(setup.env, params, first, jax.random.fold_in(key_gif, EPISODE_STREAM[split]),
                                        act=learned.act)
                save_gif(frames, run_dir / f"{split}.gif", f"{scenario.id} {method} - {split}")
                ctx.tick()
            write_summary()
    finally:
        bar.close()
    return summary


def format_method_metrics(summary: Mapping[str, Any]) -> str:
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
