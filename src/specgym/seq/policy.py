"""A small autoregressive policy: a GRU over word embeddings, as a plain pytree of arrays.

The same network is the pretrained model, the SFT model, the reference and the
RL policy (its ``value`` head is only trained by PPO). Every sequence starts from
one prefix token (``bos``, or a control token for conditional pretraining), so
``inputs = [prefix, x_1 .. x_{L-1}]`` and the logits at step t predict x_t.
Plain functions over dicts keep sampling, log-probs and training jittable and
vmappable over seeds, and the parameters save to ``.npz`` as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from specgym.seq.world import World
from specgym.settings import POSITIVE_INT, check_fields


@dataclass(frozen=True)
class PolicyConfig:
    embed: int = 32
    """Word-embedding width."""
    hidden: int = 64
    """GRU state width."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"embed": POSITIVE_INT, "hidden": POSITIVE_INT})


def init_policy(key: jax.Array, world: World, cfg: PolicyConfig = PolicyConfig()) -> dict:
    k_emb, k_x, k_h, k_out = jax.random.split(key, 4)
    e, h = cfg.embed, cfg.hidden
    return {
        "embed": jax.random.normal(k_emb, (world.input_vocab, e)) / jnp.sqrt(e),
        "wx": jax.random.normal(k_x, (e, 3 * h)) / jnp.sqrt(e),
        "wh": jax.random.normal(k_h, (h, 3 * h)) / jnp.sqrt(h),
        "bx": jnp.zeros((3 * h,)),
        "bh": jnp.zeros((3 * h,)),
        "out_w": 0.1 * jax.random.normal(k_out, (h, world.vocab_size)) / jnp.sqrt(h),
        "out_b": jnp.zeros((world.vocab_size,)),
        "value_w": jnp.zeros((h,)),
        "value_b": jnp.zeros(()),
    }


def gru_cell(params: dict, state: jax.Array, token: jax.Array) -> jax.Array:
    gx = params["embed"][token] @ params["wx"] + params["bx"]
    gh = state @ params["wh"] + params["bh"]
    xr, xz, xn = jnp.split(gx, 3, axis=-1)
    hr, hz, hn = jnp.split(gh, 3, axis=-1)
    reset = jax.nn.sigmoid(xr + hr)
    update = jax.nn.sigmoid(xz + hz)
    candidate = jnp.tanh(xn + reset * hn)
    return (1.0 - update) * candidate + update * state


def _initial_state(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["wh"].shape[0]))


def hidden_states(params: dict, tokens: jax.Array, prefix: jax.Array) -> jax.Array:
    """States (B, L, hidden) after reading [prefix, x_1 .. x_{L-1}] (teacher forcing)."""
    inputs = jnp.concatenate([prefix[:, None], tokens[:, :-1]], axis=1)

    def step(state, token):
        state = gru_cell(params, state, token)
        return state, state

    _, states = jax.lax.scan(step, _initial_state(params, tokens.shape[0]), inputs.T)
    return jnp.swapaxes(states, 0, 1)


def logits_and_values(params: dict, tokens: jax.Array, prefix: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Next-word logits (B, L, V) and value estimates (B, L) along each sequence."""
    states = hidden_states(params, tokens, prefix)
    logits = states @ params["out_w"] + params["out_b"]
    return logits, states @ params["value_w"] + params["value_b"]


def token_log_probs(params: dict, tokens: jax.Array, prefix: jax.Array) -> jax.Array:
    """log pi(x_t | prefix, x_<t) for every position (B, L)."""
    logits, _ = logits_and_values(params, tokens, prefix)
    log_p = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(log_p, tokens[..., None], axis=-1)[..., 0]


def sequence_log_prob(params: dict, tokens: jax.Array, prefix: jax.Array) -> jax.Array:
    return token_log_probs(params, tokens, prefix).sum(-1)


def sample(params: dict, key: jax.Array, prefix: jax.Array, length: int) -> jax.Array:
    """Sequences (B, length) drawn from the policy, one per prefix token."""

    def step(carry, step_key):
        state, token = carry
        state = gru_cell(params, state, token)
        nxt = jax.random.categorical(step_key, state @ params["out_w"] + params["out_b"])
        return (state, nxt), nxt

    start = (_initial_state(params, prefix.shape[0]), prefix)
    _, tokens = jax.lax.scan(step, start, jax.random.split(key, length))
    return tokens.T.astype(jnp.int32)


def stepwise_kl(logits_p: jax.Array, logits_q: jax.Array) -> jax.Array:
    """KL(p || q) between the next-word distributions at every position (..., L)."""
    log_p, log_q = jax.nn.log_softmax(logits_p), jax.nn.log_softmax(logits_q)
    return (jnp.exp(log_p) * (log_p - log_q)).sum(-1)


def sequence_kl(params: dict, reference: dict, tokens: jax.Array, prefix: jax.Array) -> jax.Array:
    """Per-sequence estimate of KL(pi || reference) from samples ``tokens`` of pi.

    Sums the exact next-word KL along each sampled prefix: unbiased for the
    sequence-level KL and of lower variance than sum(log pi - log ref).
    """
    logits_p, _ = logits_and_values(params, tokens, prefix)
    logits_q, _ = logits_and_values(reference, tokens, prefix)
    return stepwise_kl(logits_p, logits_q).sum(-1)


def prefixes(token: int, count: int) -> jax.Array:
    return jnp.full((count,), token, jnp.int32)
