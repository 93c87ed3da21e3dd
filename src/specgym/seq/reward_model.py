"""Proxy reward models fitted to gold-labelled comparisons (Bradley-Terry).

A comparison is two samples of the reference policy; the gold labeller prefers
``a`` with probability sigmoid((gold(a) - gold(b)) / temperature), as a noisy human
would. The proxy is a bag-of-words network: summed word embeddings, one ReLU
layer of ``hidden`` units, a scalar. It can represent the gold reward (a function
of word counts), so its errors come from the data it saw, not from a blind spot
built into it. Training is full-batch AdamW in one jitted ``lax.scan``; the
comparison count and the width are the two knobs of the overoptimisation study.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from specgym.optimise import minimise
from specgym.seq.gold import Gold, gold_reward
from specgym.seq.world import World
from specgym.settings import NON_NEGATIVE, POSITIVE, POSITIVE_INT, check_fields


@dataclass(frozen=True)
class RMConfig:
    comparisons: int = 1000
    """Gold-labelled pairs the proxy is trained on (N)."""
    hidden: int = 32
    """Width of the hidden layer (the proxy's size)."""
    steps: int = 600
    """Full-batch AdamW steps."""
    learning_rate: float = 3e-3
    """AdamW step size."""
    weight_decay: float = 1e-2
    """AdamW decoupled weight decay."""
    label_temperature: float = 1.0
    """Noise of the gold labeller: 0 picks the better sample always, larger is noisier."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"comparisons": POSITIVE_INT, "hidden": POSITIVE_INT, "steps": POSITIVE_INT,
                            "learning_rate": POSITIVE, "weight_decay": NON_NEGATIVE,
                            "label_temperature": NON_NEGATIVE})


def init_reward_model(key: jax.Array, world: World, hidden: int) -> dict:
    k_emb, k_out = jax.random.split(key)
    return {
        "embed": 0.3 * jax.random.normal(k_emb, (world.vocab_size, hidden)),
        "bias": jnp.zeros((hidden,)),
        "out": jax.random.normal(k_out, (hidden,)) / jnp.sqrt(hidden),
    }


def reward_model_score(params: dict, tokens: jax.Array) -> jax.Array:
    """Proxy score of each sequence (..., length)."""
    summed = params["embed"][tokens].sum(-2) / 4.0
    return jax.nn.relu(summed + params["bias"]) @ params["out"]


def bradley_terry_loss(score_chosen: jax.Array, score_rejected: jax.Array) -> jax.Array:
    """-log P(chosen preferred) under Bradley-Terry, averaged over pairs."""
    return -jax.nn.log_sigmoid(score_chosen - score_rejected).mean()


def label_pairs(key: jax.Array, first: jax.Array, second: jax.Array, score_first: jax.Array,
                score_second: jax.Array, temperature: float) -> tuple[jax.Array, jax.Array]:
    """(chosen, rejected) from two aligned batches and a labeller's scores of each."""
    if temperature > 0:
        p_first = jax.nn.sigmoid((score_first - score_second) / temperature)
        first_wins = jax.random.uniform(key, p_first.shape) < p_first
    else:
        first_wins = score_first >= score_second
    chosen = jnp.where(first_wins[:, None], first, second)
    rejected = jnp.where(first_wins[:, None], second, first)
    return chosen, rejected


def gold_comparisons(key: jax.Array, world: World, gold: Gold, first: jax.Array, second: jax.Array,
                     temperature: float) -> tuple[jax.Array, jax.Array]:
    return label_pairs(key, first, second, gold_reward(world, gold, first), gold_reward(world, gold, second),
                       temperature)


def train_reward_model(key: jax.Array, world: World, chosen: jax.Array, rejected: jax.Array,
                       cfg: RMConfig = RMConfig()) -> tuple[dict, jax.Array]:
    """Fit a proxy to (chosen, rejected) pairs; returns (params, loss per step)."""
    optimiser = optax.adamw(cfg.learning_rate, weight_decay=cfg.weight_decay)
    params = init_reward_model(key, world, cfg.hidden)

    def loss_fn(p):
        return bradley_terry_loss(reward_model_score(p, chosen), reward_model_score(p, rejected))

    return minimise(loss_fn, params, optimiser, cfg.steps)


def preference_accuracy(params: dict, world: World, gold: Gold, first: jax.Array, second: jax.Array) -> jax.Array:
    """How often the proxy orders a pair as the gold reward does (ties in gold skipped)."""
    g1, g2 = gold_reward(world, gold, first), gold_reward(world, gold, second)
    p1, p2 = reward_model_score(params, first), reward_model_score(params, second)
    decided = g1 != g2
    agree = (jnp.sign(g1 - g2) == jnp.sign(p1 - p2)) & decided
    return agree.sum() / jnp.maximum(decided.sum(), 1)
