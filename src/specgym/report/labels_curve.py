"""The labels-needed curve of ``specgym rlhf``: intended score against the number of comparisons."""

from __future__ import annotations

from pathlib import Path


def plot_labels_curve(per_budget: dict, baseline: dict | None, path: Path, title: str) -> None:
    """Intended score (IQM and 95% CI over seeds) against the number of comparisons."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = [int(b) for b in per_budget]
    rows = list(per_budget.values())
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=110)
    # the oracle's score is the intended one: draw it once
    same = all(row.get("evaluator_score") and row["evaluator_score"]["per_seed"] == row["intended_score"]["per_seed"]
               for row in rows)
    for key, colour, label in (("evaluator_score", "tab:orange", "score the evaluator gives"),
                               ("intended_score", "tab:blue", "intended score (train levels)")):
        if all(row.get(key) for row in rows) and not (same and key == "evaluator_score"):
            iqm = [row[key]["iqm"] for row in rows]
            low = [row[key]["ci95"][0] for row in rows]
            high = [row[key]["ci95"][1] for row in rows]
            ax.fill_between(budgets, low, high, color=colour, alpha=0.18)
            ax.plot(budgets, iqm, "o-", color=colour, lw=2, label=label)
            for b, row in zip(budgets, rows, strict=True):
                ax.scatter([b] * len(row[key]["per_seed"]), row[key]["per_seed"], color=colour, s=8, alpha=0.5)
    if baseline:
        ax.axhline(baseline["iqm"], color="tab:green", ls="--", label="PPO on the intended reward (IQM)")
        ax.axhspan(*baseline["ci95"], color="tab:green", alpha=0.1)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.set_xlabel("comparisons (labels) per agent")
    ax.set_ylabel("normalised score (0 random, 1 optimal)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
