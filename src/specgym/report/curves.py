"""Training curves: specified vs intended score of training episodes over env steps."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from specgym.diagnose.metrics import normalised_score  # noqa: E402


def plot_training(steps, specified, intended, references: dict, path: Path, title: str) -> None:
    """``specified``/``intended``: (seeds, updates) mean episode returns; NaN where none finished.

    Curves are normalised with the training split's references (0 random, 1 optimal).
    """
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for values, which, colour in ((specified, "specified", "tab:orange"), (intended, "intended", "tab:blue")):
        low, high = references[which]
        scores = normalised_score(np.asarray(values, np.float64), low, high)
        for seed_curve in scores:
            mask = ~np.isnan(seed_curve)
            ax.plot(np.asarray(steps)[mask], seed_curve[mask], color=colour, alpha=0.18, lw=0.8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # updates in which no episode ended
            middle = np.nanmedian(scores, axis=0)
        mask = ~np.isnan(middle)
        ax.plot(np.asarray(steps)[mask], middle[mask], color=colour, lw=2.2, label=f"{which} score (median of seeds)")
    ax.axhline(0, color="grey", lw=0.6, ls=":")
    ax.axhline(1, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("environment steps per seed")
    ax.set_ylabel("normalised score (0 random, 1 optimal)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
