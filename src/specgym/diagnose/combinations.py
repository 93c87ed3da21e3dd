"""Train and evaluate every combination of a scenario's canonical fixes (one per lever).

Each combination is an ordinary ``Scenario.setup(overrides, fixes)`` trained by
``specgym.run.train_seeds`` and scored by ``specgym.evaluation.evaluate_split``,
so a diagnosis measures exactly what ``specgym run --fix ...`` would. All
combinations use the same master seed (common random numbers): seed i of one
combination starts from the same network and rollouts as seed i of another,
which makes the per-seed differences behind Shapley values paired.

Where a scenario documents no fix for a lever, fixing that lever changes
nothing; combinations that differ only in such levers are trained once and
shared, which is exact (same setup, same key, same result), not an approximation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from specgym.diagnose.levers import coalitions
from specgym.evaluation import evaluate_split
from specgym.references import split_references
from specgym.run import train_seeds
from specgym.scenarios.base import LEVERS, Scenario, Setup


def canonical_fixes(scenario: Scenario) -> dict[str, str | None]:
    """The first documented fix of each lever, None where the scenario has none."""
    return {lever: next(iter(scenario.fixes.get(lever, {})), None) for lever in LEVERS}


def coalition_label(coalition) -> str:
    """``none``, ``reward``, ``reward+environment``... in lever order."""
    return "+".join(lever for lever in LEVERS if lever in coalition) or "none"


@dataclasses.dataclass
class Combination:
    """One trained combination of fixes."""

    fixes: dict
    """lever -> fix name (None: lever left as it is)."""
    setup: Setup
    nets: Any
    """Trained networks, batched over seeds."""
    splits: dict
    """``evaluate_split`` result per split."""
    references: dict
    history: dict
    seconds: float
    trained_steps: int
    interrupted: bool
    shared_with: str | None = None
    """Label of the combination whose training this one reuses (no-op levers)."""


def train_combination(scenario: Scenario, overrides: dict, fixes: dict, seeds: int, seed: int, eval_episodes: int,
                      progress: bool, label: str, on_chunk: Callable | None = None) -> Combination:
    """Train one combination on ``seeds`` seeds and evaluate it on both splits."""
    started = time.perf_counter()
    setup = scenario.setup(overrides, fixes)
    key_train, key_eval, _ = jax.random.split(jax.random.PRNGKey(seed), 3)
    trained = train_seeds(setup, seeds, key_train, label=label, progress=progress,
                          on_chunk=None if on_chunk is None else (lambda runner, done: on_chunk(setup, runner, done)))
    references, splits = {}, {}
    for split, params in (("train", setup.train_params), ("deploy", setup.deploy_params)):
        references[split] = split_references(setup.env, params)
        splits[split] = evaluate_split(setup.env, params, trained.runner.net, key_eval, references[split],
                                       eval_episodes)
    return Combination(fixes, setup, jax.device_get(trained.runner.net), splits, references, trained.history,
                       time.perf_counter() - started, trained.updates_done * setup.trainer.steps_per_update,
                       trained.interrupted)


def train_all_combinations(scenario: Scenario, overrides: dict, seeds: int, seed: int, eval_episodes: int,
                           progress: bool = True, share_noops: bool = True,
                           on_chunk_baseline: Callable | None = None) -> dict[frozenset, Combination]:
    """All 2^3 combinations of the canonical fixes, keyed by the set of fixed levers.

    ``share_noops=False`` trains even combinations that no-op levers make identical
    (to time the full 8-way cost). ``on_chunk_baseline(setup, runner, updates)`` is
    called during the unfixed combination's training (checkpoint evaluations).
    """
    canonical = canonical_fixes(scenario)
    for coalition in coalitions():  # fail fast on a bad setting before anything trains
        scenario.setup(overrides, {lever: canonical[lever] for lever in coalition})
    done: dict[frozenset, Combination] = {}
    by_effect: dict[tuple, frozenset] = {}
    for number, coalition in enumerate(coalitions(), start=1):
        fixes = {lever: (canonical[lever] if lever in coalition else None) for lever in LEVERS}
        effect = tuple(fixes[lever] for lever in LEVERS)
        if share_noops and effect in by_effect:
            original = done[by_effect[effect]]
            done[coalition] = dataclasses.replace(original, fixes=fixes, shared_with=coalition_label(by_effect[effect]))
            continue
        label = f"[{number}/8] fixes: {coalition_label(coalition)}"
        hook = on_chunk_baseline if not coalition else None
        done[coalition] = train_combination(scenario, overrides, fixes, seeds, seed, eval_episodes, progress, label,
                                            on_chunk=hook)
        by_effect.setdefault(effect, coalition)
        if done[coalition].interrupted:
            raise KeyboardInterrupt
    return done


def per_seed_scores(combos: dict[frozenset, Combination], split: str = "deploy",
                    which: str = "intended_score") -> dict[frozenset, np.ndarray]:
    """coalition -> (seeds,) normalised scores, the values Shapley attribution splits."""
    return {c: np.asarray(combo.splits[split][which]["per_seed"], np.float64) for c, combo in combos.items()}
