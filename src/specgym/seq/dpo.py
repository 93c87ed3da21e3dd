"""Direct preference optimisation (Rafailov et al. 2023) on the gold-labelled comparisons.

DPO skips the reward model: the policy's log-ratio to the reference, scaled by
beta, *is* the reward, and the Bradley-Terry loss is applied to it directly,

    loss = -log sigmoid(beta * [(log pi(w) - log ref(w)) - (log pi(l) - log ref(l))]).

beta sets how far the policy may move. The step trains one policy per (beta,
seed) on the same comparisons a proxy would see, and sets each beside best-of-n
against a proxy fitted to those very comparisons, at the KL DPO reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from specgym.compile_options import LONG_RUNNING
from specgym.optimise import minimise
from specgym.seq.best_of_n import best_of_n_kl, best_of_n_scores
from specgym.seq.gold import Gold, gold_reward
from specgym.seq.plots import plot_dpo
from specgym.seq.policy import prefixes, sample, sequence_log_prob
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import RMConfig, reward_model_score, train_reward_model
from specgym.seq.rlhf import evaluate_policies, gold_labelled_pairs
from specgym.seq.world import World
from specgym.settings import POSITIVE, POSITIVE_INT, POSITIVE_NUMBERS, check_fields
from specgym.stats import summarize


@dataclass(frozen=True)
class DPOTrainConfig:
    steps: int = 300
    """Adam steps."""
    batch: int = 128
    """Comparisons per step."""
    learning_rate: float = 3e-4
    """Adam step size."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"steps": POSITIVE_INT, "batch": POSITIVE_INT, "learning_rate": POSITIVE})


@dataclass(frozen=True)
class DPOConfig:
    seeds: int = 4
    """Policies per beta (each on its own comparisons)."""
    betas: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)
    """DPO temperatures to sweep."""
    rm: RMConfig = RMConfig()
    """Comparison count and labeller noise (and the proxy for the best-of-n comparison)."""
    train: DPOTrainConfig = DPOTrainConfig()
    """The DPO loop."""
    pool: int = 20_000
    """Reference samples for the best-of-n comparison."""
    eval_samples: int = 2000
    """Samples per policy in the evaluation."""
    pretrain: PretrainConfig = PretrainConfig()
    """The reference policy."""
    world: World = field(default_factory=World)
    """The toy language."""
    gold: Gold = field(default_factory=Gold)
    """The gold reward."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"seeds": POSITIVE_INT, "betas": POSITIVE_NUMBERS, "pool": POSITIVE_INT,
                            "eval_samples": POSITIVE_INT})


def dpo_loss(policy_chosen: jax.Array, policy_rejected: jax.Array, ref_chosen: jax.Array,
             ref_rejected: jax.Array, beta) -> jax.Array:
    """Mean DPO loss from sequence log-probs of the policy and the reference."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -jax.nn.log_sigmoid(beta * margin).mean()


def train_dpo(key: jax.Array, policy: dict, reference: dict, chosen: jax.Array, rejected: jax.Array, beta,
              prefix_token: int, cfg: DPOTrainConfig = DPOTrainConfig()) -> tuple[dict, jax.Array]:
    """DPO from ``policy`` (usually the reference itself); returns (params, loss per step)."""
    optimiser = optax.adam(cfg.learning_rate)
    prefix = prefixes(prefix_token, cfg.batch)
    ref_chosen = sequence_log_prob(reference, chosen, prefixes(prefix_token, chosen.shape[0]))
    ref_rejected = sequence_log_prob(reference, rejected, prefixes(prefix_token, rejected.shape[0]))

    def loss_fn(params, idx):
        return dpo_loss(sequence_log_prob(params, chosen[idx], prefix),
                        sequence_log_prob(params, rejected[idx], prefix), ref_chosen[idx], ref_rejected[idx], beta)

    def batch_loss(params, step_key):
        return loss_fn(params, jax.random.randint(step_key, (cfg.batch,), 0, chosen.shape[0]))

    return minimise(batch_loss, policy, optimiser, keys=jax.random.split(key, cfg.steps))


def _bon_gold_at(curve: dict, kl: float) -> float:
    """Gold of best-of-n at the n whose analytic KL equals ``kl`` (interpolated; capped at the largest n)."""
    return float(np.interp(kl, curve["kl"], curve["gold"]))


def run_dpo(cfg: DPOConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    world, gold = cfg.world.validate(), cfg.gold
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    k_pairs, k_dpo, k_rm, k_pool, k_eval = jax.random.split(jax.random.PRNGKey(seed + 21), 5)
    pair_keys = jax.random.split(k_pairs, cfg.seeds)
    n, temp = cfg.rm.comparisons, cfg.rm.label_temperature
    chosen, rejected = jax.jit(jax.vmap(lambda k: gold_labelled_pairs(k, reference, world, gold, n, temp)))(pair_keys)
    betas = jnp.asarray(cfg.betas, jnp.float32)

    def per_seed(k, c, r, beta):
        return train_dpo(k, reference, reference, c, r, beta, world.bos, cfg.train)

    over_seeds = jax.vmap(per_seed, in_axes=(0, 0, 0, None))
    policies, losses = jax.jit(jax.vmap(over_seeds, in_axes=(None, None, None, 0)), compiler_options=LONG_RUNNING)(
        jax.random.split(k_dpo, cfg.seeds), chosen, rejected, betas)

    proxies = jax.jit(jax.vmap(lambda k, c, r: train_reward_model(k, world, c, r, cfg.rm)[0]),
                      compiler_options=LONG_RUNNING)(
        jax.random.split(k_rm, cfg.seeds), chosen, rejected)
    pool = sample(reference, k_pool, prefixes(world.bos, cfg.pool), world.length)
    pool_gold = np.asarray(gold_reward(world, gold, pool))
    scores = np.asarray(jax.vmap(reward_model_score, in_axes=(0, None))(proxies, pool))
    ns = np.unique(np.round(np.logspace(0, 3, 40)).astype(int))
    bon = [best_of_n_scores(scores[s], pool_gold, ns) for s in range(cfg.seeds)]

    rows = {}
    for b, beta in enumerate(cfg.betas):
        stats = evaluate_policies(k_eval, jax.tree.map(lambda x, b=b: x[b], policies), reference, world, gold,
                                  cfg.eval_samples)
        bon_gold = [_bon_gold_at(bon[s], stats["kl"]["per_seed"][s]) for s in range(cfg.seeds)]
        rows[f"beta={beta:g}"] = {**stats, "bon_gold_same_kl": summarize(bon_gold),
                                  "final_loss": summarize(np.asarray(losses[b, :, -20:]).mean(-1))}
    bon_mean = {"kl": best_of_n_kl(ns).tolist(), "gold": np.mean([c["gold"] for c in bon], axis=0).tolist()}
    plot_dpo(rows, bon_mean, float(pool_gold.mean()), run_dir / "dpo.png")
    lines = [f"{'':12s}{'KL':>18s}{'gold (DPO)':>22s}{'gold (BoN same KL)':>22s}{'helpful words':>18s}"]
    for name, r in rows.items():
        lines.append(f"{name:12s}" + "".join(f"{r[k]['iqm']:10.2f} [{r[k]['ci95'][0]:5.2f},{r[k]['ci95'][1]:5.2f}]"
                                             for k in ("kl", "gold", "bon_gold_same_kl", "helpful_words")))
    lines.append(f"reference gold {pool_gold.mean():.2f}; {n} comparisons, {cfg.seeds} seeds")
    return {"step": "dpo", "comparisons": n, "reference_gold": float(pool_gold.mean()), "betas": list(cfg.betas),
            "results": rows, "best_of_n": bon_mean, "table": lines}
