"""The imitation methods of ``specgym imitate``, each a function from the run's :class:`Context` to :class:`Learned`.

A method adapts one learner of ``specgym.learn`` (BC, DAgger, procedure
cloning, MaxEnt IRL) to a run: it trains on the demonstrations, returns an
action function, the policies batched over seeds and its own metrics, and may
draw its figures into the run directory. Adding a method is adding an entry to
``METHODS``; the learners themselves stay in ``specgym.learn``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from specgym.evaluation import evaluate_policy
from specgym.learn import bc, compounding, dagger, procedure_cloning
from specgym.learn import maxent_irl as irl
from specgym.learn import reward_distance as rd
from specgym.learn.demos import Demos, expert_q_values
from specgym.learn.imitation_specs import ImitationSpec
from specgym.learn.irl_figures import plot_reward_maps
from specgym.progress import Progress
from specgym.references import split_references
from specgym.rollout import Act, mlp_act, per_episode
from specgym.scenarios.base import Scenario
from specgym.stats import summarize


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
    num_levels, num_states = q.shape[:2]
    shown = np.stack([compounding.shown_states(num_levels, num_states, demos.levels[s, :demos.filled[s]],
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
    assert side is not None, "NEEDS checks for a board before any work"
    demos = _labels(ctx)
    policies, fit = procedure_cloning.clone_procedure(procedure_cloning.PCConfig(), demos, side,
                                                      ctx.setup.env.num_actions, ctx.key, ctx.seeds)
    baseline = learn_bc(ctx)
    metrics = {"expert_labels": len(demos), "trace_step_accuracy": summarize(fit["step_accuracy"]),
               "bc_same_demos": _evaluate_both(ctx, baseline)}
    return Learned(procedure_cloning.make_act(side), policies, metrics)


def learn_irl(ctx: Context) -> Learned:
    """Fit a reward per seed (each on a bootstrap resample of the demonstrations), plan on it, report ambiguity."""
    task: irl.IRLTask = ctx.spec.irl
    config = task.config
    env, params = ctx.setup.env, ctx.setup.train_params
    next_state, planted, valid = irl.planted_model(env, params)
    states = jax.vmap(task.obs_to_state)(jnp.asarray(ctx.demos.obs))
    actions = jnp.asarray(ctx.demos.actions)
    keys = jax.random.split(ctx.key, ctx.seeds)
    picks = [np.asarray(jax.random.choice(k, len(actions), (len(actions),))) for k in keys]
    thetas = [irl.fit_reward(config, next_state, states[p], actions[p], valid)[0] for p in picks]
    report = irl.ambiguity_report(next_state, planted, thetas, valid, states, actions, config,
                                  jax.random.fold_in(ctx.key, 3))
    q_tables = jnp.stack([rd.optimal_q(next_state, irl.entering_reward(t, next_state), 0.99) for t in thetas])
    side = env.height
    plot_reward_maps(irl.planted_state_reward(next_state, planted).reshape(side, side),
                     np.asarray(thetas[0]).reshape(side, side), np.asarray(params.walls[0]),
                     ctx.run_dir / "reward.png", f"{ctx.scenario.id}: planted vs recovered reward (seed 0)",
                     report["epic_recovered_to_planted"]["per_seed"][0])
    return Learned(irl.greedy_act(env, params), q_tables, report)


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
                              jax.random.fold_in(ctx.key, 11),
                              split_references(ctx.setup.env, params), ctx.eval_episodes)
        out[split] = {"intended_score": res["intended_score"],
                      "event_rates": {k: v["episode_rate"] for k, v in res["events"].items()}}
    return out
