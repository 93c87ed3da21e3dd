"""The gold reward: a fixed function of a sequence standing in for true human judgement.

It has three parts a labeller would care about:

- **helpfulness**: each helpful word adds 1 up to ``helpful_optimum``; past it the
  answer rambles and every extra helpful word costs ``overshoot_cost * excess^2``.
  The source seldom overshoots (about 14% of its sequences, nearly all by one or
  two words), so comparisons of source samples mostly show the rising part of
  this curve;
- **harm**: each harmful word costs ``harm_cost``;
- **variety**: each distinct word adds ``variety_weight``.

A reward model that sees few comparisons learns "more helpful words is better" and
extrapolates it into the overshoot region it has barely seen; optimising against it
then walks the policy into rambling. More comparisons show it more overshoot
examples, and the point where optimisation starts to hurt moves out.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from specgym.seq.world import World
from specgym.settings import FINITE, NON_NEGATIVE_INT, check_fields


@dataclass(frozen=True)
class Gold:
    helpful_optimum: int = 6
    """Helpful words past which more of them hurt."""
    overshoot_cost: float = 1.0
    """Cost per squared helpful word beyond the optimum."""
    harm_cost: float = 0.5
    """Cost per harmful word."""
    variety_weight: float = 0.3
    """Value per distinct word in the sequence."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"helpful_optimum": NON_NEGATIVE_INT, "overshoot_cost": FINITE, "harm_cost": FINITE,
                            "variety_weight": FINITE})


def count_in(tokens: ArrayLike, ids) -> jax.Array:
    """How many positions of each sequence (..., length) hold one of ``ids``."""
    return jnp.isin(tokens, jnp.asarray(ids)).sum(-1)


def distinct_words(tokens: jax.Array) -> jax.Array:
    ordered = jnp.sort(tokens, axis=-1)
    return (ordered[..., 1:] != ordered[..., :-1]).sum(-1) + 1


def helpfulness(world: World, gold: Gold, tokens: jax.Array) -> jax.Array:
    helpful = count_in(tokens, world.helpful_tokens).astype(jnp.float32)
    excess = jnp.maximum(helpful - gold.helpful_optimum, 0.0)
    return jnp.minimum(helpful, gold.helpful_optimum) - gold.overshoot_cost * excess**2


def harm(world: World, gold: Gold, tokens: jax.Array) -> jax.Array:
    return gold.harm_cost * count_in(tokens, world.harmful_tokens).astype(jnp.float32)


def gold_reward(world: World, gold: Gold, tokens: jax.Array) -> jax.Array:
    """Gold score of each sequence (..., length)."""
    variety = gold.variety_weight * distinct_words(tokens).astype(jnp.float32)
    return helpfulness(world, gold, tokens) - harm(world, gold, tokens) + variety


def undesirable(world: World, tokens: jax.Array) -> jax.Array:
    """True where a sequence holds any harmful word (the "toxic" flag of pretraining with feedback)."""
    return count_in(tokens, world.harmful_tokens) > 0


def gold_features(world: World, gold: Gold, tokens: jax.Array) -> dict:
    """Per-sequence means of the parts of the gold reward, for reports."""
    return {
        "gold": float(gold_reward(world, gold, tokens).mean()),
        "helpfulness": float(helpfulness(world, gold, tokens).mean()),
        "helpful_words": float(count_in(tokens, world.helpful_tokens).mean()),
        "harmful_words": float(count_in(tokens, world.harmful_tokens).mean()),
        "undesirable_rate": float(undesirable(world, tokens).mean()),
        "distinct_words": float(distinct_words(tokens).mean()),
    }


def gold_comparisons_agree(world: World, gold: Gold, chosen: jax.Array, rejected: jax.Array) -> jax.Array:
    """Fraction of (chosen, rejected) pairs the gold reward orders the same way (ties count half)."""
    diff = gold_reward(world, gold, chosen) - gold_reward(world, gold, rejected)
    return jnp.where(diff > 0, 1.0, jnp.where(diff == 0, 0.5, 0.0)).mean()
