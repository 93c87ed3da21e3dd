"""The Goodhart curve of a diagnosis: specified and intended score against optimisation pressure."""

from __future__ import annotations

import numpy as np


def plot_pressure(goodhart: dict, path, title: str):
    """One panel per pressure axis: specified (orange) and intended (blue) score, IQM with 95% CI, per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = goodhart["curves"]
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 3.6), squeeze=False, dpi=100)
    for ax, (axis, points) in zip(axes[0], curves.items(), strict=True):
        x = np.array([p["pressure"] for p in points])
        for split, style in (("train", "-"), ("deploy", "--")):
            for which, colour in (("specified", "tab:orange"), ("intended", "tab:blue")):
                mid = np.array([p[split][which]["iqm"] for p in points])
                low = np.array([p[split][which]["ci95"][0] for p in points])
                high = np.array([p[split][which]["ci95"][1] for p in points])
                ax.plot(x, mid, style, color=colour, marker="o", ms=3, label=f"{which}, {split}")
                ax.fill_between(x, low, high, color=colour, alpha=0.12)
        ax.set_xlabel("training steps" if axis == "steps" else "hidden width")
        if axis == "width":
            ax.set_xscale("log", base=2)
        ax.set_ylabel("normalised score (0 random, 1 optimal)")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

