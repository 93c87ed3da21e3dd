"""Pictures of the sequence experiments (matplotlib, written as PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from specgym.seq.fits import predict


def _label(setting: dict) -> str:
    return f"N={setting['comparisons']}, width {setting['hidden']}"


def plot_overoptimization(summary: dict, path: Path) -> Path:
    """2 x 2: gold gain with fits (top) and proxy gain (bottom), best-of-n (left) and PPO (right)."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), dpi=110, sharex="col")
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(summary["settings"])))
    for col, (method, form, title) in enumerate((("best_of_n", "bon", "best-of-n, n = 1..{n}"),
                                                 ("ppo", "rl", "PPO checkpoints (no KL penalty)"))):
        top, bottom = axes[0, col], axes[1, col]
        for colour, result in zip(colours, summary["settings"], strict=True):
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
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
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


def plot_dpo(rows: dict, bon: dict, reference_gold: float, path: Path) -> Path:
    """Gold against sqrt(KL): one point per DPO beta (seeds faint), the best-of-n curve for scale."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    ax.plot(np.sqrt(bon["kl"]), bon["gold"], "-", color="grey", label="best-of-n vs proxy (same comparisons)")
    for name, r in rows.items():
        d = np.sqrt(np.maximum(r["kl"]["per_seed"], 0))
        line, = ax.plot(np.sqrt(max(r["kl"]["iqm"], 0)), r["gold"]["iqm"], "o", ms=8, label=f"DPO {name}")
        ax.plot(d, r["gold"]["per_seed"], ".", color=line.get_color(), alpha=0.5)
    ax.axhline(reference_gold, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("d = sqrt(KL(policy || reference))")
    ax.set_ylabel("gold score")
    ax.set_title("DPO on gold-labelled comparisons", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_tradeoff(results: dict, path: Path, helpful_optimum: int) -> Path:
    """Helpful words against harmful words per method (IQM large, seeds small), with the gold optimum."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for name, stats in results.items():
        line, = axes[0].plot(stats["helpful_words"]["iqm"], stats["harmful_words"]["iqm"], "o", ms=9, label=name)
        axes[0].plot(stats["helpful_words"]["per_seed"], stats["harmful_words"]["per_seed"], ".",
                     color=line.get_color(), alpha=0.5)
    axes[0].axvline(helpful_optimum, color="grey", ls=":", lw=1)
    axes[0].text(helpful_optimum, axes[0].get_ylim()[1], " gold optimum", fontsize=7, va="top")
    axes[0].set_xlabel("helpful words per sequence")
    axes[0].set_ylabel("harmful words per sequence")
    axes[0].legend(fontsize=7)
    words = [k for k in next(iter(results.values())) if k.startswith("word_")]
    width = 0.8 / len(results)
    for i, (name, stats) in enumerate(results.items()):
        axes[1].bar(np.arange(len(words)) + i * width, [stats[w]["iqm"] for w in words], width, label=name)
    axes[1].set_xticks(np.arange(len(words)) + 0.4 - width / 2, [w.replace("_", " ") for w in words])
    axes[1].set_ylabel("occurrences per sequence")
    axes[1].set_title("harmful words: listed in the constitution vs forgotten", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_phf(results: dict, path: Path) -> Path:
    """Undesirable rate against KL from the source, one point per method (seeds faint)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for name, r in results.items():
        for ax, x_key in zip(axes, ("kl_from_source", "nll_per_word"), strict=True):
            line, = ax.plot(r[x_key]["iqm"], r["undesirable_rate"]["iqm"], "o", ms=9, label=name)
            ax.plot(r[x_key]["per_seed"], r["undesirable_rate"]["per_seed"], ".", color=line.get_color(), alpha=0.5)
    axes[0].set_xlabel("KL(policy || source) per sequence [nats]")
    axes[1].set_xlabel("held-out NLL of source text per word [nats]")
    for ax in axes:
        ax.set_ylabel("undesirable samples (rate)")
        ax.legend(fontsize=7)
    fig.suptitle("Pretraining with feedback: less undesirable text, and what it costs", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_score_by_helpful_words(curve: dict, optimum: int, path: Path) -> Path:
    """Gold and each proxy against the number of helpful words, with how common each count is."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    h = np.asarray(curve["helpful_words"])
    ax.plot(h, curve["gold"], "o-", color="black", lw=2, label="gold")
    for i, proxy in enumerate(curve["proxy_per_seed"]):
        ax.plot(h, proxy, "--", color="tab:orange", alpha=0.7, label="proxies (one per seed)" if i == 0 else None)
    ax.axvline(optimum, color="grey", ls=":", lw=1)
    share = ax.twinx()
    share.bar(h, curve["share"], color="tab:blue", alpha=0.15)
    share.set_ylabel("share of source sequences", color="tab:blue")
    ax.set_xlabel("helpful words in the sequence")
    ax.set_ylabel("mean score minus the source mean")
    ax.set_title("what the proxy learned about helpful words", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
