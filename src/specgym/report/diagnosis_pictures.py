"""The pictures a diagnosis directory keeps for its report: gamed vs fixed episodes, heatmaps, bars, curves."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from specgym.report.attribution import plot_attribution
from specgym.report.curves import plot_training
from specgym.report.episodes import record_episode, save_gif
from specgym.report.heatmap import plot_heatmaps, visitation_counts
from specgym.report.pressure import plot_pressure
from specgym.rl.policy_io import select_seed
from specgym.scenarios.base import LEVERS

EPISODE_STREAM = {"train": 5, "deploy": 6}
"""Split -> the ``fold_in`` stream of the picture key its GIF episode is drawn from (fixed numbers, so a
seed gives the same pictures in every release)."""
VISITS_STREAM = 9
"""The ``fold_in`` stream of the state-visitation counts (both splits draw from it)."""


def diagnosis_pictures(scenario, combos: dict, result: dict, directory: Path, seed: int) -> dict:
    """Write the pictures; returns ``{name: file name}`` for the report."""
    key = jax.random.PRNGKey(seed + 2)
    pictures = {}
    shown = {"gamed": combos[frozenset()], "fixed": combos[frozenset(LEVERS)]}
    for label, combo in shown.items():
        net = select_seed(combo.nets, 0)
        for split, params in (("train", combo.setup.train_params), ("deploy", combo.setup.deploy_params)):
            name = f"{label}-{split}.gif"
            frames = record_episode(combo.setup.env, params, net, jax.random.fold_in(key, EPISODE_STREAM[split]))
            save_gif(frames, directory / name, f"{scenario.id} {label} - {split}")
            pictures[name[:-4]] = name
        visits = {split: visitation_counts(combo.setup.env, params, combo.nets, jax.random.fold_in(key, VISITS_STREAM))
                  for split, params in (("train", combo.setup.train_params), ("deploy", combo.setup.deploy_params))}
        if plot_heatmaps(visits, directory / f"{label}-visits.png", f"{scenario.id} {label}: where the agents go"):
            pictures[f"{label}-visits"] = f"{label}-visits.png"
        history = combo.history
        if history["steps"]:
            plot_training(history["steps"], np.stack(history["specified"], 1), np.stack(history["intended"], 1),
                          combo.references["train"], directory / f"{label}-curves.png",
                          f"{scenario.id} {label}: training episodes")
            pictures[f"{label}-curves"] = f"{label}-curves.png"
    if "attribution" in result:
        plot_attribution(result["attribution"], directory / "attribution.png",
                         f"{scenario.id}: Shapley value per lever (95% CI over seeds)")
        pictures["attribution"] = "attribution.png"
    if "goodhart" in result and result["goodhart"].get("curves"):
        plot_pressure(result["goodhart"], directory / "goodhart.png", f"{scenario.id}: Goodhart curve")
        pictures["goodhart"] = "goodhart.png"
    return pictures
