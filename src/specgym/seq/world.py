"""The toy language: a vocabulary, fixed-length sequences and the "pretraining" source.

The source is a first-order Markov chain whose transition table is drawn once from
``source_seed`` and then shaped so the story of the gold reward holds in the data:
*helpful* tokens are common, *harmful* tokens are rare and appear almost only right
after a helpful one (helpful-sounding text that slides into harm), and no token
repeats itself. Everything is computed here from the config, so every run builds
the same world without downloading anything, and the exact log-probability of any
sequence under the source is available (a quality reference no real corpus has).

Token ids: ``0 .. vocab_size-1`` are the words a policy emits; three more ids are
inputs only: ``bos`` starts every sequence, ``good`` / ``bad`` are the control
tokens of conditional pretraining (see ``phf.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from specgym.settings import FINITE, NON_NEGATIVE_INT, check_fields


@dataclass(frozen=True)
class World:
    vocab_size: int = 16
    """Words a policy can emit (ids 0..vocab_size-1)."""
    length: int = 16
    """Tokens per sequence (every sequence has exactly this length)."""
    helpful_tokens: tuple[int, ...] = (0, 1, 2, 3)
    """Words that carry helpful content; the gold reward wants some of them, not too many."""
    harmful_tokens: tuple[int, ...] = (4, 5)
    """Words the gold reward penalises; rare in the source, which emits them after helpful words."""
    source_seed: int = 0
    """Seed of the random part of the transition table."""
    helpful_to_harmful: float = 0.0
    """Logit added to the transition helpful -> harmful (how often harm follows help)."""
    other_to_harmful: float = -3.0
    """Logit added to every other transition into a harmful word (keeps harm rare elsewhere)."""
    self_transition: float = -3.0
    """Logit of a word following itself (the source rarely stutters)."""

    def __post_init__(self):
        """Refuse a seed NumPy cannot take and non-finite logits (sizes and ids are checked by ``validate``)."""
        check_fields(self, {"source_seed": NON_NEGATIVE_INT, "helpful_to_harmful": FINITE, "other_to_harmful": FINITE,
                            "self_transition": FINITE})

    @property
    def bos(self) -> int:
        return self.vocab_size

    @property
    def good(self) -> int:
        return self.vocab_size + 1

    @property
    def bad(self) -> int:
        return self.vocab_size + 2

    @property
    def input_vocab(self) -> int:
        """Ids a policy reads: the words plus bos, good and bad."""
        return self.vocab_size + 3

    def validate(self) -> World:
        from specgym.errors import ScenarioError

        if not 4 <= self.vocab_size <= 256:
            raise ScenarioError(f"vocab_size must be in 4..256, not {self.vocab_size}")
        if not 2 <= self.length <= 128:
            raise ScenarioError(f"length must be in 2..128, not {self.length}")
        for name in ("helpful_tokens", "harmful_tokens"):
            ids = getattr(self, name)
            if not ids or any(not 0 <= i < self.vocab_size for i in ids):
                raise ScenarioError(f"{name} must be non-empty ids in 0..{self.vocab_size - 1}, got {ids}")
        if set(self.helpful_tokens) & set(self.harmful_tokens):
            raise ScenarioError("a word cannot be both helpful and harmful")
        return self


def source_tables(world: World) -> tuple[jax.Array, jax.Array]:
    """(initial log-probs (V,), transition log-probs (V, V)) of the Markov source."""
    rng = np.random.default_rng(world.source_seed)
    logits = rng.normal(0.0, 1.0, (world.vocab_size, world.vocab_size))
    helpful = np.asarray(world.helpful_tokens)
    harmful = np.asarray(world.harmful_tokens)
    others = np.setdiff1d(np.arange(world.vocab_size), helpful)
    logits[:, harmful] = 0.0
    logits[np.ix_(helpful, harmful)] += world.helpful_to_harmful
    logits[np.ix_(others, harmful)] += world.other_to_harmful
    np.fill_diagonal(logits, world.self_transition)
    initial = np.zeros(world.vocab_size)
    initial[harmful] = world.other_to_harmful
    log_t = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    log_0 = initial - np.logaddexp.reduce(initial)
    return jnp.asarray(log_0, jnp.float32), jnp.asarray(log_t, jnp.float32)


def sample_source(key: jax.Array, world: World, count: int) -> jax.Array:
    """``count`` sequences (count, length) of int32 words drawn from the source."""
    log_0, log_t = source_tables(world)
    key_first, key_rest = jax.random.split(key)
    first = jax.random.categorical(key_first, log_0, shape=(count,))

    def step(prev, step_key):
        nxt = jax.random.categorical(step_key, log_t[prev])
        return nxt, nxt

    _, rest = jax.lax.scan(step, first, jax.random.split(key_rest, world.length - 1))
    return jnp.concatenate([first[:, None], rest.T], axis=1).astype(jnp.int32)


def source_log_prob(world: World, tokens: jax.Array) -> jax.Array:
    """Exact log-probability of each sequence (..., length) under the source."""
    log_0, log_t = source_tables(world)
    return log_0[tokens[..., 0]] + log_t[tokens[..., :-1], tokens[..., 1:]].sum(-1)
