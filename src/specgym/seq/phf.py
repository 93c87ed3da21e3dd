"""Pretraining with feedback (Korbak et al. 2023) against pretraining followed by RLHF.

The feedback is a classifier of undesirable text: here, a sequence is undesirable
if it holds any harmful word (40% of the source). Three ways to use it:

- **filtering**: pretrain only on the desirable part of the corpus;
- **conditional training**: prefix every corpus sequence with a control token,
  ``good`` or ``bad`` by the classifier, pretrain on all of it, and sample after
  ``good``;
- **standard + RLHF**: pretrain on everything, then PPO with the KL penalty
  against the classifier's score (minus the count of harmful words).

Each is measured on the rate of undesirable samples, the gold score, the KL from
the source (exact: the source's log-probability is known) and the held-out
negative log-likelihood of source text (the capability the method costs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.progress import Progress
from specgym.seq.gold import Gold, count_in, gold_reward, undesirable
from specgym.seq.mle import MLEConfig, train_mle
from specgym.seq.plots import plot_phf
from specgym.seq.policy import PolicyConfig, init_policy, prefixes, sample, sequence_log_prob
from specgym.seq.ppo_kl import SeqPPOConfig
from specgym.seq.rlhf import SeqRLHFConfig, train_ppo
from specgym.seq.world import World, sample_source, source_log_prob
from specgym.settings import POSITIVE_INT, check_fields
from specgym.stats import summarize


@dataclass(frozen=True)
class PHFConfig:
    seeds: int = 3
    """Policies per method."""
    dataset: int = 40_000
    """Corpus size (filtering trains on its desirable part only)."""
    mle: MLEConfig = MLEConfig(steps=400)
    """The pretraining loop of every method."""
    policy: PolicyConfig = PolicyConfig()
    """Network sizes."""
    ppo: SeqPPOConfig = SeqPPOConfig(updates=100, kl_coef=0.05, learning_rate=3e-5)
    """RLHF after standard pretraining, against the classifier's score."""
    eval_samples: int = 4000
    """Samples per policy in the evaluation."""
    world: World = field(default_factory=World)
    """The toy language."""
    gold: Gold = field(default_factory=Gold)
    """The gold reward."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"seeds": POSITIVE_INT, "dataset": POSITIVE_INT, "eval_samples": POSITIVE_INT})


def conditional_prefixes(world: World, corpus: jax.Array) -> jax.Array:
    """``bad`` before undesirable sequences, ``good`` before the rest."""
    return jnp.where(undesirable(world, corpus), world.bad, world.good).astype(jnp.int32)


def pretrain_variant(cfg: PHFConfig, world: World, key: jax.Array, mode: str):
    """One vmapped pretraining run per seed; ``mode`` picks the data and prefixes."""
    corpus = sample_source(key, world, cfg.dataset)
    if mode == "filtering":
        corpus = jnp.asarray(np.asarray(corpus)[~np.asarray(undesirable(world, corpus))])
        pre = prefixes(world.bos, corpus.shape[0])
    elif mode == "conditional":
        pre = conditional_prefixes(world, corpus)
    else:
        pre = prefixes(world.bos, corpus.shape[0])

    def one(k):
        k_init, k_fit = jax.random.split(k)
        return train_mle(init_policy(k_init, world, cfg.policy), k_fit, corpus, pre, cfg.mle)[0]

    return jax.jit(jax.vmap(one))(jax.random.split(jax.random.fold_in(key, 1), cfg.seeds)), corpus.shape[0]


def _negative_harm(params, tokens):
    """The classifier's score as a reward: minus the harmful words (params unused)."""
    return -count_in(tokens, params["harmful"]).astype(jnp.float32)


def evaluate(key: jax.Array, params: dict, world: World, gold: Gold, count: int, prefix_token: int,
             conditional: bool, good_share: float) -> dict:
    """Undesirable rate, gold, KL(policy || source) per sequence, held-out source NLL per word."""
    k_sample, k_held = jax.random.split(key)
    tokens = sample(params, k_sample, prefixes(prefix_token, count), world.length)
    kl = (sequence_log_prob(params, tokens, prefixes(prefix_token, count)) - source_log_prob(world, tokens)).mean()
    held = sample_source(k_held, world, count)
    if conditional:  # the model of text is the mixture over the control tokens, weighted by their corpus shares
        log_good = sequence_log_prob(params, held, prefixes(world.good, count)) + jnp.log(good_share)
        log_bad = sequence_log_prob(params, held, prefixes(world.bad, count)) + jnp.log1p(-good_share)
        log_p = jnp.logaddexp(log_good, log_bad)
    else:
        log_p = sequence_log_prob(params, held, prefixes(world.bos, count))
    return {"undesirable_rate": undesirable(world, tokens).mean(), "gold": gold_reward(world, gold, tokens).mean(),
            "kl_from_source": kl, "nll_per_word": -log_p.mean() / world.length,
            "harmful_words": count_in(tokens, world.harmful_tokens).mean()}


def run_phf(cfg: PHFConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    world, gold = cfg.world.validate(), cfg.gold
    key = jax.random.PRNGKey(seed + 41)
    bar = Progress(4, unit="methods", label="phf", enabled=progress)
    models, corpus_sizes = {}, {}
    for i, mode in enumerate(("standard", "filtering", "conditional")):
        models[mode], corpus_sizes[mode] = pretrain_variant(cfg, world, jax.random.fold_in(key, 0), mode)
        bar.update(i + 1)
    corpus = sample_source(jax.random.fold_in(key, 0), world, cfg.dataset)
    good_share = float(1.0 - undesirable(world, corpus).mean())
    harm_ids = {"harmful": jnp.broadcast_to(jnp.asarray(world.harmful_tokens), (cfg.seeds, len(world.harmful_tokens)))}
    rlhf_cfg = SeqRLHFConfig(ppo=cfg.ppo, world=world, gold=gold)
    # each seed's RLHF starts from (and is penalised towards) that seed's standard model
    tuned = jax.vmap(lambda ref, h, k: _ppo_one(rlhf_cfg, ref, h, k))(
        models["standard"], harm_ids, jax.random.split(jax.random.fold_in(key, 2), cfg.seeds))
    models["standard + RLHF"] = tuned
    bar.update(4)
    bar.close()
    variants = {"standard": (world.bos, False), "filtering": (world.bos, False), "conditional": (world.good, True),
                "standard + RLHF": (world.bos, False)}
    results = {}
    for name, (token, conditional) in variants.items():
        per_seed = jax.device_get(jax.jit(jax.vmap(
            lambda p, k, token=token, conditional=conditional: evaluate(k, p, world, gold, cfg.eval_samples, token,
                                                                   conditional, good_share)))(
            models[name], jax.random.split(jax.random.fold_in(key, 3), cfg.seeds)))
        results[name] = {k: summarize(v) for k, v in per_seed.items()}
    plot_phf(results, run_dir / "phf.png")
    keys = ("undesirable_rate", "gold", "kl_from_source", "nll_per_word")
    lines = [f"{'':16s}" + "".join(f"{k:>24s}" for k in keys)]
    for name, r in results.items():
        lines.append(f"{name:16s}" + "".join(f"{r[k]['iqm']:9.3f} [{r[k]['ci95'][0]:6.3f},{r[k]['ci95'][1]:6.3f}]"
                                             for k in keys))
    lines.append(f"source: undesirable rate {1 - good_share:.3f}; filtering kept {corpus_sizes['filtering']} of "
                 f"{cfg.dataset} sequences")
    return {"step": "phf", "seeds": cfg.seeds, "source_undesirable_rate": 1 - good_share,
            "corpus_sizes": corpus_sizes, "results": results, "table": lines}


def _ppo_one(cfg: SeqRLHFConfig, reference: dict, harm: dict, key: jax.Array) -> dict:
    policies, _ = train_ppo(cfg, reference, jax.tree.map(lambda x: x[None], harm), _negative_harm, key)
    return jax.tree.map(lambda x: x[0], policies)
