"""PPO against a reward model with a KL penalty to the reference policy (step 3 of RLHF).

Each update samples a batch of sequences, scores each finished sequence with the
proxy, and charges every word beta * (log pi - log pi_ref): the KL penalty of
Ziegler et al. (2019), which keeps the policy near the text it was pretrained on.
beta is fixed, or adapted after every update towards a target KL (the
proportional controller of the same paper). Advantages are GAE over the words of
a sequence (gamma = 1); the value head rides on the policy's GRU.

The whole run is one jitted ``lax.scan`` over updates, vmappable over seeds (each
seed with its own reward model). Every update logs the proxy and the gold score of
its batch and the KL estimate, so the run is a curve of checkpoints for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from specgym.errors import ScenarioError
from specgym.seq.gold import Gold, count_in, gold_reward
from specgym.seq.policy import logits_and_values, prefixes, sample, stepwise_kl
from specgym.seq.world import World
from specgym.settings import FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, check_fields


@dataclass(frozen=True)
class SeqPPOConfig:
    updates: int = 150
    """Policy updates."""
    batch: int = 128
    """Sequences sampled per update."""
    epochs: int = 4
    """Passes over each batch."""
    minibatches: int = 4
    """Minibatches per pass."""
    learning_rate: float = 1e-3
    """Adam step size."""
    clip: float = 0.2
    """PPO ratio clip."""
    value_coef: float = 0.5
    """Weight of the value loss."""
    gae_lambda: float = 0.95
    """GAE lambda over the words of a sequence (gamma = 1)."""
    kl_coef: float = 0.05
    """KL penalty per word, beta (the starting value when adaptive)."""
    kl_target: float = 0.0
    """Target KL (nats per sequence) of the adaptive controller; 0 keeps beta fixed."""
    kl_horizon: float = 10.0
    """Adaptive controller: beta moves by at most 20% / kl_horizon per update."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""

    def __post_init__(self):
        """Refuse values the loop cannot run with, in one line naming the field."""
        check_fields(self, {**{name: POSITIVE_INT for name in ("updates", "batch", "epochs", "minibatches")},
                            "learning_rate": POSITIVE, "clip": POSITIVE, "max_grad_norm": POSITIVE,
                            "value_coef": NON_NEGATIVE, "gae_lambda": FRACTION, "kl_coef": NON_NEGATIVE,
                            "kl_target": NON_NEGATIVE, "kl_horizon": POSITIVE})
        if self.batch % self.minibatches:
            raise ScenarioError(f"minibatches ({self.minibatches}) must divide batch ({self.batch})")


def gae(rewards: jax.Array, values: jax.Array, lam: float) -> jax.Array:
    """Advantages (B, L) with gamma = 1 and no bootstrap after the last word."""
    next_values = jnp.concatenate([values[:, 1:], jnp.zeros_like(values[:, :1])], axis=1)
    deltas = rewards + next_values - values

    def back(carry, delta):
        carry = delta + lam * carry
        return carry, carry

    _, adv = jax.lax.scan(back, jnp.zeros(rewards.shape[0]), deltas.T, reverse=True)
    return adv.T


def adapt_beta(beta: jax.Array, kl: jax.Array, cfg: SeqPPOConfig) -> jax.Array:
    """Proportional controller (Ziegler et al. 2019): beta *= 1 + clip(KL / target - 1, +-0.2) / horizon."""
    if cfg.kl_target <= 0:
        return beta
    error = jnp.clip(kl / cfg.kl_target - 1.0, -0.2, 0.2)
    return beta * (1.0 + error / cfg.kl_horizon)


class PPOTrainer:
    """``init(key, policy)`` -> runner; ``run(runner, reference, reward, count)`` -> (runner, metrics)."""

    def __init__(self, world: World, gold: Gold, cfg: SeqPPOConfig, reward_fn):
        self.world, self.gold, self.cfg, self.reward_fn = world, gold, cfg, reward_fn
        self.optimiser = optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), optax.adam(cfg.learning_rate))

    def init(self, key: jax.Array, policy: dict) -> dict:
        return {"params": policy, "opt": self.optimiser.init(policy), "beta": jnp.float32(self.cfg.kl_coef),
                "key": key}

    def _loss(self, params, batch):
        logits, values = logits_and_values(params, batch["tokens"], batch["prefix"])
        log_p = jnp.take_along_axis(jax.nn.log_softmax(logits), batch["tokens"][..., None], -1)[..., 0]
        ratio = jnp.exp(log_p - batch["log_p"])
        adv = batch["adv"]
        clipped = jnp.clip(ratio, 1 - self.cfg.clip, 1 + self.cfg.clip)
        policy_loss = -jnp.minimum(ratio * adv, clipped * adv).mean()
        value_loss = ((values - batch["returns"]) ** 2).mean()
        return policy_loss + self.cfg.value_coef * value_loss

    def update(self, runner: dict, reference: dict, reward_params) -> tuple[dict, dict]:
        cfg, world = self.cfg, self.world
        key, k_sample, k_perm = jax.random.split(runner["key"], 3)
        params = runner["params"]
        prefix = prefixes(world.bos, cfg.batch)
        tokens = sample(params, k_sample, prefix, world.length)
        logits, values = logits_and_values(params, tokens, prefix)
        ref_logits, _ = logits_and_values(reference, tokens, prefix)
        log_p = jnp.take_along_axis(jax.nn.log_softmax(logits), tokens[..., None], -1)[..., 0]
        ref_log_p = jnp.take_along_axis(jax.nn.log_softmax(ref_logits), tokens[..., None], -1)[..., 0]
        proxy = self.reward_fn(reward_params, tokens)
        rewards = -runner["beta"] * (log_p - ref_log_p)
        rewards = rewards.at[:, -1].add(proxy)
        adv = gae(rewards, values, cfg.gae_lambda)
        returns = adv + values
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        data = {"tokens": tokens, "prefix": prefix, "log_p": log_p, "adv": adv, "returns": returns}
        data = jax.lax.stop_gradient(data)
        size = cfg.batch // cfg.minibatches

        def epoch(carry, epoch_key):
            order = jax.random.permutation(epoch_key, cfg.batch)

            def minibatch(carry, idx):
                p, opt = carry
                grads = jax.grad(self._loss)(p, jax.tree.map(lambda x: x[idx], data))
                updates, opt = self.optimiser.update(grads, opt, p)
                return (optax.apply_updates(p, updates), opt), None

            carry, _ = jax.lax.scan(minibatch, carry, order.reshape(cfg.minibatches, size))
            return carry, None

        (params, opt), _ = jax.lax.scan(epoch, (params, runner["opt"]), jax.random.split(k_perm, cfg.epochs))
        kl = jax.lax.stop_gradient(stepwise_kl(logits, ref_logits).sum(-1).mean())
        metrics = {"proxy": proxy.mean(), "gold": gold_reward(world, self.gold, tokens).mean(), "kl": kl,
                   "beta": runner["beta"],
                   "helpful_words": count_in(tokens, world.helpful_tokens).mean(),
                   "harmful_words": count_in(tokens, world.harmful_tokens).mean()}
        runner = {"params": params, "opt": opt, "beta": adapt_beta(runner["beta"], kl, cfg), "key": key}
        return runner, metrics

    def run(self, runner: dict, reference: dict, reward_params, count: int) -> tuple[dict, dict]:
        """``count`` updates in one scan; metrics stacked along the update axis."""
        return jax.lax.scan(lambda r, _: self.update(r, reference, reward_params), runner, None, count)
