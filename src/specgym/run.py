"""Train a scenario on many seeds at once, evaluate on both splits, and write a run directory.

A run directory holds: ``config.json`` (everything needed to reproduce),
``metrics.jsonl`` (per update and seed, appended as training goes),
``summary.json``, ``policy.npz`` (the trained networks, one per seed),
``train.gif`` / ``deploy.gif``, ``curves.png`` and state-visitation counts per split
(``visits.npz``, drawn as ``visits.png``).
The JSON files go through ``specgym.run_dir.RunDir`` (written atomically, numbers
that are not finite stored as ``null``); ``summary.json`` is a
``specgym.results.RunSummary``.

Training proceeds in chunks of updates, each one compiled call vmapped over
seeds, so progress can be shown and a Ctrl-C keeps everything produced so far
(the partial policy is still evaluated and the summary marked interrupted).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from specgym import compile_options, seed_parallel
from specgym.capability import capability_goals
from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_split
from specgym.progress import Progress
from specgym.references import split_references
from specgym.report.curves import plot_training
from specgym.report.episodes import record_episode, save_gif
from specgym.report.heatmap import plot_heatmaps, save_visits, visitation_counts
from specgym.results import RunSummary
from specgym.rl.policy_io import save_policies
from specgym.rl.ppo import PPO
from specgym.run_dir import RunDir, jsonable
from specgym.scenarios.base import LEVERS, Scenario
from specgym.stop_request import StopRequest

TIMING_FIELDS = ("wall_seconds", "compile_seconds", "run_dir")

EPISODE_STREAM = {"train": 5, "deploy": 6}
"""Split -> the ``fold_in`` stream of the picture key its GIF episode is drawn from (fixed numbers, so a
seed gives the same GIFs in every release; ``specgym imitate`` and ``specgym rlhf`` draw theirs the same way)."""
VISITS_STREAM = {"train": 12, "deploy": 13}
"""Split -> the ``fold_in`` stream of the picture key its state-visitation counts are drawn from."""
COUNTER_LIMIT = 2**31 - 1
"""The largest count the compiled training loop holds (JAX's default integers have 32 bits)."""


def check_budget(cfg) -> None:
    """Refuse a trainer budget whose optimiser-step count overflows the compiled loop, before any file is written."""
    steps = cfg.num_updates * cfg.update_epochs * cfg.num_minibatches
    if steps > COUNTER_LIMIT:
        raise ScenarioError(f"total_steps={cfg.total_steps} is too large: training would take {steps:.3g} optimiser "
                            f"steps, over the {COUNTER_LIMIT:,} a compiled run can count")


def _chunk_size(num_updates: int, target_chunks: int = 25, most: int = 16) -> int:
    """Updates per compiled call: a divisor of ``num_updates`` (one compile), at most
    num_updates / target_chunks and ``most`` (so progress and Ctrl-C stay responsive)."""
    limit = max(1, min(num_updates // target_chunks, most))
    return max(d for d in range(1, limit + 1) if num_updates % d == 0)


@dataclasses.dataclass
class Trained:
    """What :func:`train_seeds` leaves: the final runner (``runner.net`` batched over seeds) and its history."""

    runner: Any
    history: dict
    """``steps`` (list) and ``specified`` / ``intended`` (lists of per-seed training-episode returns)."""
    updates_done: int
    interrupted: bool
    compile_seconds: float
    chunk_seconds: list
    chunk_updates: int
    """Updates per compiled chunk: chunk ``j`` ends at update ``(j + 1) * chunk_updates``."""

    def clock(self) -> list[list[float]]:
        """``[update, seconds since training started]`` at the end of each chunk (compilation included)."""
        ends = np.cumsum(self.chunk_seconds) if self.chunk_seconds else np.zeros(0)
        return [[(j + 1) * self.chunk_updates, float(t)] for j, t in enumerate(ends)]


def train_seeds(setup, seeds: int, key, label: str = "", progress: bool = True, on_update=None,
                on_chunk=None) -> Trained:
    """Train ``seeds`` PPO agents on ``setup`` (vmapped), in compiled chunks of updates.

    The one training loop behind ``specgym run`` and ``specgym diagnose``.
    ``on_update(updates_done, i, metrics)`` sees each update's metrics (index ``i``
    in the chunk, arrays of shape (seeds, chunk)); ``on_chunk(runner, updates_done)``
    runs after every chunk (checkpoint evaluations). Ctrl-C stops training after the
    current chunk (a second Ctrl-C at once) and returns what was trained so far,
    marked ``interrupted``.
    """
    cfg = setup.trainer
    check_budget(cfg)
    env, params = setup.training()
    ppo = PPO(cfg, env, params)
    # the training params enter the compiled calls as an argument, so runs on other levels of the same shapes
    # (a fix that changes only the training levels, and the unfixed run) share the programs
    init_on = seed_parallel.jit_over_seeds(jax.vmap(lambda k, p: ppo.on(p).init(k), in_axes=(0, None)), seeds)
    runner = init_on(jax.random.split(key, seeds), params)
    chunk = _chunk_size(cfg.num_updates)
    run_chunk_on = seed_parallel.jit_over_seeds(
        jax.vmap(lambda r, p: ppo.on(p).run_updates(r, chunk), in_axes=(0, None)), seeds,
        compile_options.for_training(cfg.num_updates * seeds))

    def run_chunk(r):
        return run_chunk_on(r, params)

    chunk_seconds = []
    bar = Progress(cfg.num_updates * cfg.steps_per_update * seeds, label=label, enabled=progress)
    history = {"steps": [], "specified": [], "intended": []}
    updates_done, interrupted = 0, False
    try:
        with StopRequest() as stop:
            while updates_done < cfg.num_updates and not stop.requested:
                chunk_start = time.perf_counter()
                runner, metrics = run_chunk(runner)
                metrics = jax.device_get(metrics)
                chunk_seconds.append(time.perf_counter() - chunk_start)
                for i in range(chunk):
                    updates_done += 1
                    history["steps"].append(updates_done * cfg.steps_per_update)
                    history["specified"].append(metrics["specified_return"][:, i])
                    history["intended"].append(metrics["intended_return"][:, i])
                    if on_update is not None:
                        on_update(updates_done, i, metrics)
                if on_chunk is not None:
                    on_chunk(seed_parallel.gather(runner), updates_done)
                if len(chunk_seconds) == 1:  # the rate excludes the first call, which compiled
                    bar.mark(updates_done * cfg.steps_per_update * seeds)
                bar.update(updates_done * cfg.steps_per_update * seeds)
        interrupted = stop.requested
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    # The first chunk pays compilation; what it took beyond a typical chunk is the compile time.
    steady = float(np.median(chunk_seconds[1:])) if len(chunk_seconds) > 1 else 0.0
    compile_seconds = max(0.0, chunk_seconds[0] - steady) if chunk_seconds else 0.0
    return Trained(seed_parallel.gather(runner), history, updates_done, interrupted, compile_seconds, chunk_seconds,
                   chunk)


def run_scenario(scenario: Scenario, overrides: dict | None = None, fixes: dict | None = None, seeds: int = 8,
                 seed: int = 0, out_root: Path = Path("runs"), eval_episodes: int = 64, progress: bool = True,
                 pictures: bool = True) -> RunSummary:
    """Train `seeds` agents (vmapped), evaluate them, write the run directory, return the summary.

    The Python form of `specgym run SCENARIO --json`.

    Args:
        scenario: The scenario to train on.
        overrides: Scenario settings and trainer fields, e.g. `{"total_steps": 4096}`.
        fixes: `{lever: fix name}`; a lever left out (or None) keeps the unfixed scenario.
        seeds: Agents trained at once, each from its own key.
        seed: Master seed.
        out_root: Parent of the run directory.
        eval_episodes: Evaluation episodes per seed and split.
        progress: Show a progress bar.
        pictures: Write the GIFs, the training curves and the state-visitation plots.
    """
    started = time.perf_counter()
    if seeds < 1:
        raise ScenarioError(f"--seeds must be at least 1, not {seeds}")
    fixes = {lever: (fixes or {}).get(lever) for lever in LEVERS}
    setup = scenario.setup(overrides or {}, fixes)
    cfg = setup.trainer
    check_budget(cfg)
    key_train, key_eval, key_gif = jax.random.split(jax.random.PRNGKey(seed), 3)
    run_dir = RunDir.create(out_root, scenario.id)
    config = {"scenario": scenario.id, "seeds": seeds, "seed": seed, "fixes": fixes,
              "settings": {**scenario.resolve_settings(overrides or {}), **jsonable(dataclasses.asdict(cfg))},
              "eval_episodes": eval_episodes}
    run_dir.write_json("config.json", config)

    with run_dir.metrics() as log:
        def write_rows(updates_done, i, metrics):
            for s in range(seeds):
                log.append({"update": updates_done, "env_steps": updates_done * cfg.steps_per_update, "seed": s,
                            **{k: float(v[s, i]) for k, v in metrics.items()}})

        trained = train_seeds(setup, seeds, key_train, label=f"{scenario.id} ({seeds} seeds)", progress=progress,
                              on_update=write_rows, on_chunk=lambda runner, done: log.flush())
    history, updates_done, interrupted = trained.history, trained.updates_done, trained.interrupted
    compile_seconds = trained.compile_seconds
    runner = trained.runner
    nets = runner.net
    splits = {}
    references = {}
    goals = capability_goals(scenario.goals())
    for split, params, k in (("train", setup.train_params, key_eval), ("deploy", setup.deploy_params, key_eval)):
        references[split] = split_references(setup.env, params)
        splits[split] = evaluate_split(setup.env, params, nets, k, references[split], eval_episodes, goals)
    save_policies(jax.device_get(nets), run_dir / "policy.npz")

    summary: RunSummary = {
        "scenario": scenario.id,
        "seeds": seeds,
        "seed": seed,
        "env_steps": updates_done * cfg.steps_per_update,
        "wall_seconds": None,
        "compile_seconds": compile_seconds,
        "training_clock": trained.clock(),
        "interrupted": interrupted,
        "fixes": fixes,
        "settings": config["settings"],
        "available_fixes": scenario.available_fixes(),
        "specified_reward": getattr(setup.env.specified_reward, "name", repr(setup.env.specified_reward)),
        "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
        "events_shown": list(scenario.events),
        "splits": splits,
        "run_dir": str(run_dir),
    }
    if pictures and updates_done:
        first = jax.tree_util.tree_map(lambda x: x[0], nets)
        for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
            frames = record_episode(setup.env, params, first, jax.random.fold_in(key_gif, EPISODE_STREAM[split]))
            save_gif(frames, run_dir / f"{split}.gif", f"{scenario.id} - {split}")
        plot_training(history["steps"], np.stack(history["specified"], 1), np.stack(history["intended"], 1),
                      references["train"], run_dir / "curves.png", f"{scenario.id}: training episodes")
        visits = {split: visitation_counts(setup.env, params, nets, jax.random.fold_in(key_gif, VISITS_STREAM[split]))
                  for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params))}
        save_visits(visits, run_dir / "visits.npz")
        plot_heatmaps(visits, run_dir / "visits.png", f"{scenario.id}: where the agents go")
    summary["wall_seconds"] = time.perf_counter() - started
    run_dir.write_json("summary.json", summary)
    return summary
