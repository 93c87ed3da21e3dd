"""The lever-attribution bar chart: Shapley value per lever with its 95% CI, and the interactions."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_attribution(attribution: dict, path: Path, title: str) -> Path:
    """Bars for levers (grey for levers without a fix) and Harsanyi interactions, with CI whiskers."""
    names, means, lows, highs, colours = [], [], [], [], []
    for lever, info in attribution["levers"].items():
        names.append(lever + (" (no fix)" if info["noop"] else f"\n{info['fix']}"))
        means.append(info["shapley"])
        lows.append(info["ci95"][0])
        highs.append(info["ci95"][1])
        colours.append("lightgrey" if info["noop"] else
                       ("tab:green" if lever in attribution.get("credited", []) else "tab:blue"))
    for pair, stat in attribution["interactions"].items():
        names.append("interaction\n" + " x\n".join(pair.split("+")))
        means.append(stat["mean"])
        lows.append(stat["ci95"][0])
        highs.append(stat["ci95"][1])
        colours.append("tab:purple")
    means, lows, highs = map(np.asarray, (means, lows, highs))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    x = np.arange(len(names))
    ax.bar(x, means, color=colours)
    ax.errorbar(x, means, yerr=[means - lows, highs - means], fmt="none", ecolor="black", capsize=4)
    ax.axhline(0, color="black", lw=0.8)
    total = attribution["total"]["mean"]
    ax.axhline(total, color="tab:red", lw=0.8, ls="--", label=f"total improvement {total:.2f}")
    ax.set_xticks(x, names, fontsize=7)
    ax.set_ylabel("share of deploy score gap")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
