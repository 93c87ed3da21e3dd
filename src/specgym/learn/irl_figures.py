"""Pictures of inverse-RL results: planted and recovered reward side by side."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_reward_maps(planted: np.ndarray, recovered: np.ndarray, walls: np.ndarray, path: Path, title: str,
                     epic: float) -> None:
    """Two heatmaps on their own colour scales (IRL recovers a reward up to shaping and scale)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    for ax, values, name in ((axes[0], planted, "planted"), (axes[1], recovered, f"recovered (EPIC {epic:.2f})")):
        shown = np.ma.masked_array(values, walls)[1:-1, 1:-1]
        limit = float(np.abs(shown).max()) or 1.0
        image = ax.imshow(shown, cmap="RdYlGn", vmin=-limit, vmax=limit)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
