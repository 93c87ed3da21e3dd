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

from specgym.stats import summarize
from specgym.learn import bc, compounding, dagger, procedure_cloning
from specgym.learn.demos import Demos, expert_demos, expert_q_values
from specgym.learn.imitation_specs import ImitationSpec
from specgym.progress import Progress
from specgym.references import split_references
from specgym.report.episodes import record_episode, save_gif
from specgym.run import make_run_dir
from specgym.scenarios.base import LEVERS, Scenario
from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_policy
from specgym.rollout import Act, mlp_act, per_episode


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
    bar: Progress
    label_budget: int | None = None
    """Expert-labelled states for BC and DAgger (None: all the demonstrations hold)."""
    eval_episodes: int = 64
    """Episodes per seed for every rollout-based measure (one episode count, one compiled rollout)."""
    interrupted: bool = False
    """Set by a method that stopped early on Ctrl-C but has a policy to evaluate."""
    done: int = 0

    def expert_params(self, params):
        return self.spec.expert_view(params) if self.spec.expert_view else params

    def tick(self, *_):
        """One more unit of the run's work is done (the progress bar counts them)."""
        self.done += 1
        self.bar.update(self.done)


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
    budget = ctx.label_budget
    if budget is None or budget >= len(ctx.demos):
        return ctx.demos
    d = ctx.demos
    return dataclasses.replace(d, obs=d.obs[:budget], actions=d.actions[:budget], levels=d.levels[:budget],
                               episodes=d.episodes[:budget], steps=d.steps[:budget])


def _expert_q(ctx: Context):
    return expert_q_values(ctx.setup.env, ctx.expert_params(ctx.setup.train_params))


def _mistakes(ctx: Context, nets) -> dict:
    params = ctx.setup.train_params
    rates = compounding.mistake_rates(ctx.setup.env, params, mlp_act, nets, jax.random.fold_in(ctx.key, 7),
                                      _expert_q(ctx), ctx.eval_episodes)
    return {f"mistakes_{k}": summarize(v) for k, v in rates.items()}


def learn_bc(ctx: Context) -> Learned:
    demos = _labels(ctx)
    nets, fit = bc.clone(bc.BCConfig(), demos, ctx.setup.env.num_actions, ctx.key, ctx.seeds)
    metrics = {"expert_labels": len(demos), "train_accuracy": summarize(fit["accuracy"]), **_mistakes(ctx, nets)}
    return Learned(mlp_act, nets, metrics)


def learn_dagger(ctx: Context) -> Learned:
    """DAgger and, as its baseline, BC buying the same labels the same way (see ``learn.dagger``).

    Ctrl-C during DAgger keeps its last retrained policy and skips the baseline.
    """
    env, params = ctx.setup.env, ctx.setup.train_params
    budget = len(_labels(ctx))
    config = dagger.DAggerConfig(label_budget=budget)
    runs = {}
    try:
        for name, learner_acts in (("dagger", True), ("bc", False)):
            runs[name] = dagger.dagger(env, params, ctx.key, ctx.seeds,
                                       dataclasses.replace(config, learner_acts=learner_acts),
                                       expert_params=ctx.expert_params(params), progress=ctx.tick)
            if not runs[name][1].complete:
                break
    except KeyboardInterrupt:  # raised by a run that had no policy yet
        if "dagger" not in runs:
            raise
    # the learner acted in rounds 1.. whose labels were kept
    steps = int(runs["dagger"][1].rounds.max()) * config.episodes_per_round * env.horizon(params)
    if "bc" not in runs or not all(data.complete for _, data in runs.values()):
        ctx.interrupted = True
        return Learned(mlp_act, runs["dagger"][0], {"expert_labels": budget}, steps)
    q = _expert_q(ctx)
    demos = runs["bc"][1]  # each seed's expert-demonstrated states: the reference for "distance"
    shown = np.stack([compounding.shown_states(*q.shape[:2], demos.levels[s, :demos.filled[s]],
                                               demos.cells[s, :demos.filled[s]]) for s in range(ctx.seeds)])
    profiles = {name: compounding.profile(env, params, mlp_act, nets, jax.random.fold_in(ctx.key, 7), q, shown,
                                              ctx.eval_episodes)
                for name, (nets, _) in runs.items()}
    compounding.plot_profiles({f"{n} ({budget} labels)": p for n, p in profiles.items()},
                              ctx.run_dir / "compounding.png")
    baseline = Learned(mlp_act, runs["bc"][0], {})
    metrics = {"expert_labels": budget, **compounding.summarize_profile(profiles["dagger"]),
               "bc_same_budget": {**_evaluate_both(ctx, baseline), **compounding.summarize_profile(profiles["bc"])}}
    ctx.tick()
    return Learned(mlp_act, runs["dagger"][0], metrics, steps)


def learn_pc(ctx: Context) -> Learned:
    side = ctx.spec.board_side
    demos = _labels(ctx)
    policies, fit = procedure_cloning.clone_procedure(procedure_cloning.PCConfig(), demos, side,
                                                      ctx.setup.env.num_actions, ctx.key, ctx.seeds)
    baseline = learn_bc(ctx)
    metrics = {"expert_labels": len(demos), "trace_step_accuracy": summarize(fit["step_accuracy"]),
               "bc_same_demos": _evaluate_both(ctx, baseline)}
    return Learned(procedure_cloning.make_act(side), policies, metrics)


def learn_irl(ctx: Context) -> Learned:
    from specgym.learn import maxent_irl

    return maxent_irl.learn_for_run(ctx)


METHODS: dict[str, Callable[[Context], Learned]] = {"bc": learn_bc, "dagger": learn_dagger, "pc": learn_pc,
                                                     "irl": learn_irl}
NEEDS: dict[str, tuple[str, str]] = {
    "pc": ("board_side", "a maze scenario with a search expert (bfs-maze)"),
    "irl": ("irl", "a scenario with a planted state reward (reward-grid)"),
}
"""method -> (the ImitationSpec field it needs, what kind of scenario has it): checked before any work."""
LEARN_STAGES = {"dagger": 2 * dagger.DAggerConfig().rounds + 1}
"""Progress units a method reports through ``Context.tick`` (others count as one)."""


def _evaluate_both(ctx: Context, learned: Learned) -> dict:
    """Intended score and the first event's rate of a comparison learner on both splits."""
    out = {}
    for split, params in (("train", ctx.setup.train_params), ("deploy", ctx.setup.deploy_params)):
        res = evaluate_policy(ctx.setup.env, params, per_episode(learned.act), learned.policies,
                              jax.random.fold_in(ctx.key, 11), split_references(ctx.setup.env, params), ctx.eval_episodes)
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
                  pictures: bool = True, label_budget: int | None = None) -> dict:
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
    bar = Progress(stages, unit="stages", label=f"{scenario.id} {method}", enabled=progress)
    key_demo, key_learn, key_eval, key_gif = jax.random.split(jax.random.PRNGKey(seed), 4)
    demos = _demonstrations(scenario, setup, spec, key_demo, demo_episodes or spec.demo_episodes, demos_path)
    run_dir = make_run_dir(Path(out_root), f"{scenario.id}-{method}")
    budget = label_budget if label_budget is not None else spec.label_budget
    config = {"scenario": scenario.id, "method": method, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": scenario.resolve_settings(overrides or {}), "demos": demos_path or "generated",
              "demo_episodes": int(demos.meta.get("episodes", 0)), "label_budget": budget,
              "eval_episodes": eval_episodes}
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))
    demos.save(run_dir / "demos.npz")

    ctx = Context(scenario, setup, spec, demos, key_learn, seeds, run_dir, bar, budget, eval_episodes)
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
        summary = {
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
            (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))

        write_summary()
        if pictures:
            first = jax.tree_util.tree_map(lambda x: x[0], learned.policies)
            for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
                frames = record_episode(setup.env, params, first, jax.random.fold_in(key_gif, len(split)),
                                        act=learned.act)
                save_gif(frames, run_dir / f"{split}.gif", f"{scenario.id} {method} - {split}")
                ctx.tick()
            write_summary()
    finally:
        bar.close()
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
