"""Pictures of the sequence experiments (matplotlib, written as PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from specgym.seq.fits import predict  # noqa: E402


def _label(setting: dict) -> str:
    return f"N={setting['comparisons']}, width {setting['hidden']}"


def plot_overoptimization(summary: dict, path: Path) -> Path:
    """2 x 2: gold gain with fits (top) and proxy gain (bottom), best-of-n (left) and PPO (right)."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), dpi=110, sharex="col")
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(summary["settings"])))
    for col, (method, form, title) in enumerate((("best_of_n", "bon", "best-of-n, n = 1..{n}"),
                                                 ("ppo", "rl", "PPO checkpoints (no KL penalty)"))):
        top, bottom = axes[0, col], axes[1, col]
        for colour, result in zip(colours, summary["settings"]):
            curve = result[method]
            d = np.asarray(curve["d"])
            fit = curve["fit"]["mean_curve"]
            top.plot(d, curve["gold_gain"], "o", color=colour, ms=3.5, label=_label(result["setting"]))
            grid = np.linspace(1e-3, d.max(), 200)
            top.plot(grid, predict(form, fit["alpha"], fit["beta"], grid), "-", color=colour, lw=1.3, alpha=0.8)
            bottom.plot(d, curve["proxy_gain"], "s--", color=colour, ms=3, lw=1)
        n_max = summary["settings"][0]["best_of_n"]["n"][-1]
        top.set_title(title.format(n=n_max), fontsize=10)
        top.axhline(0, color="grey", lw=0.6, ls=":")
        bottom.axhline(0, color="grey", lw=0.6, ls=":")
        top.set_ylabel("gold gain over reference")
        bottom.set_ylabel("proxy gain over reference")
        bottom.set_xlabel("d = sqrt(KL(policy || reference))  [sqrt(nats)]")
    axes[0, 0].legend(fontsize=7, loc="lower left", title="proxy trained on", title_fontsize=7)
    fig.suptitle("Reward-model overoptimisation: markers measured (mean of seeds), lines fitted "
                 "d(a - b d) and d(a - b log d)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_training_curves(curves: dict, path: Path, title: str, x_label: str = "update") -> Path:
    """One panel per metric; each curve (seeds, steps) drawn as its seed mean with faint seeds."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), dpi=110)
    for ax, name in zip(np.atleast_1d(axes), names):
        for label, values in curves[name].items():
            values = np.asarray(values, np.float64)
            line, = ax.plot(values.mean(axis=0), lw=2, label=label)
            for seed_curve in values:
                ax.plot(seed_curve, color=line.get_color(), alpha=0.2, lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(x_label)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
