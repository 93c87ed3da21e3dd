"""Training curves: specified vs intended score of training episodes over env steps."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from specgym.stats import normalised_score


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


def plot_sweep(result: dict, setting: str, path: Path) -> None:
    """Deploy scores (IQM with 95% CI) and deploy event rates against one swept setting."""
    rows = result["rows"]
    x = np.array([r["settings"][setting] for r in rows], np.float64)
    fig, (score_ax, event_ax) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for which, colour in (("intended", "tab:blue"), ("specified", "tab:orange")):
        stats = [r["splits"]["deploy"][f"{which}_score"] for r in rows]
        mid = np.array([s["iqm"] for s in stats])
        low = mid - np.array([s["ci95"][0] for s in stats])
        high = np.array([s["ci95"][1] for s in stats]) - mid
        score_ax.errorbar(x, mid, yerr=[low, high], color=colour, marker="o", capsize=3, label=f"deploy {which} score")
    score_ax.set_xlabel(setting)
    score_ax.set_ylabel("normalised score (IQM, 95% CI)")
    score_ax.legend(fontsize=8)
    for name in result["events_shown"]:
        rates = [r["splits"]["deploy"]["event_rates"].get(name) for r in rows]
        if all(rates):
            event_ax.plot(x, [100 * r["iqm"] for r in rates], marker="o", label=name)
    event_ax.set_xlabel(setting)
    event_ax.set_ylabel("deploy episodes with the event (%)")
    event_ax.legend(fontsize=8)
    fig.suptitle(f"{result['scenario']}: sweep over {setting} ({result['seeds']} seeds per point)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
