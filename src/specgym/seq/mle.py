"""Maximum-likelihood training of the policy: pretraining, SFT and conditional pretraining.

All three are the same loop on different data: pretraining reads a large sample of
the source, SFT fine-tunes on a small set of demonstrations, and pretraining with
feedback (``phf.py``) either filters the data or prefixes each sequence with a
control token. The loop is one jitted ``lax.scan`` of Adam steps on random
minibatches of a dataset held on the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import optax

from specgym.compile_options import LONG_RUNNING
from specgym.optimise import minimise
from specgym.seq.policy import sequence_log_prob
from specgym.settings import POSITIVE, POSITIVE_INT, check_fields


@dataclass(frozen=True)
class MLEConfig:
    steps: int = 1500
    """Adam steps."""
    batch: int = 128
    """Sequences per step."""
    learning_rate: float = 3e-3
    """Adam step size (cosine-decayed to 10% over the run)."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"steps": POSITIVE_INT, "batch": POSITIVE_INT, "learning_rate": POSITIVE})


def nll_per_word(params: dict, tokens: jax.Array, prefix: jax.Array) -> jax.Array:
    """Mean negative log-likelihood per word (nats)."""
    return -sequence_log_prob(params, tokens, prefix).mean() / tokens.shape[1]


def train_mle(params: dict, key: jax.Array, tokens: jax.Array, prefix: jax.Array,
              cfg: MLEConfig = MLEConfig()) -> tuple[dict, jax.Array]:
    """Fit ``params`` to the dataset (tokens (M, L), prefix (M,)); returns (params, loss per step)."""
    schedule = optax.cosine_decay_schedule(cfg.learning_rate, cfg.steps, alpha=0.1)
    optimiser = optax.adam(schedule)
    trainable = {k: v for k, v in params.items() if not k.startswith("value")}
    frozen = {k: v for k, v in params.items() if k.startswith("value")}

    def loss_fn(weights, batch_tokens, batch_prefix):
        return nll_per_word({**weights, **frozen}, batch_tokens, batch_prefix)

    def batch_loss(weights, step_key):
        index = jax.random.randint(step_key, (cfg.batch,), 0, tokens.shape[0])
        return loss_fn(weights, tokens[index], prefix[index])

    trainable, losses = minimise(batch_loss, trainable, optimiser, keys=jax.random.split(key, cfg.steps))
    return {**trainable, **frozen}, losses


train_mle_jit = jax.jit(train_mle, static_argnames="cfg", compiler_options=LONG_RUNNING)
