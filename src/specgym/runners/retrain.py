"""Retrain a reward model from a labelled run directory: the labelling page's live statistics.

``specgym label`` calls :func:`retrain_from_run_dir` as labels arrive; it reads
the run directory that ``specgym rlhf --evaluator human`` queued (``queries.jsonl``
and ``clips/<id>.npz``) and trains a fresh Bradley-Terry ensemble on the pairs
labelled so far.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.learn import reward_model as rm
from specgym.learn.preferences import CHOICE_VALUES


def retrain_from_run_dir(run_dir, labels: dict, cfg: rm.RewardModelConfig | None = None,
                         heldout_share: float = 0.2, seed: int = 0) -> dict:
    """Train a fresh reward model on the labelled pairs of ``run_dir`` (clips/<id>.npz + queries.jsonl).

    ``labels`` maps pair id -> "left" | "right" | "equal" | "cant_tell". The last
    ``heldout_share`` of the usable labels (in query order) is kept out and scored.
    """
    cfg = cfg or rm.RewardModelConfig()
    run_dir = Path(run_dir)
    queries = [json.loads(line) for line in (run_dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    rows = [(q, CHOICE_VALUES[labels[q["pair_id"]]]) for q in queries
            if labels.get(q["pair_id"]) in CHOICE_VALUES and labels[q["pair_id"]] != "cant_tell"]
    if not rows:
        return {"labels": 0}

    def load(clip_id):
        with np.load(run_dir / "clips" / f"{clip_id}.npz") as data:
            return data["features"].astype(np.float32), data["mask"].astype(np.float32)

    left = [load(q["left"]) for q, _ in rows]
    right = [load(q["right"]) for q, _ in rows]
    value = np.array([v for _, v in rows], np.float32)
    n_test = int(len(rows) * heldout_share) if len(rows) >= 10 else 0
    n_train = len(rows) - n_test

    def stack(items, i):
        return jnp.asarray(np.stack([x[i] for x in items]))

    lf, lm, rf, rmask = stack(left, 0), stack(left, 1), stack(right, 0), stack(right, 1)
    buffer = rm.empty_buffer(len(rows), lf.shape[1], lf.shape[2], cfg.members)
    usable = jnp.arange(len(rows)) < n_train
    buffer = rm.add_comparisons(buffer, jax.random.PRNGKey(seed), lf, rf, lm, rmask, jnp.asarray(value), usable)
    model = rm.init_reward_model(jax.random.PRNGKey(seed + 1), lf.shape[2], cfg)
    model, losses = rm.train_reward_model(model, buffer, jax.random.PRNGKey(seed + 2), cfg)
    predicted = np.asarray(rm.member_preferences(model, lf, rf, lm, rmask).mean(0))
    strict = value != 0.5

    def accuracy(part):
        keep = part & strict
        return float(np.mean((predicted[keep] > 0.5) == (value[keep] > 0.5))) if keep.any() else None

    index = np.arange(len(rows))
    return {"labels": len(rows), "train_accuracy": accuracy(index < n_train),
            "heldout_accuracy": accuracy(index >= n_train), "loss": float(np.mean(losses))}
