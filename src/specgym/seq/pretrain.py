"""Step 0 and step 1 of the pipeline: pretraining on the source and SFT on demonstrations.

Pretraining fits the policy to a large sample of the source by maximum likelihood;
the result is the reference policy of every later step. SFT then fine-tunes it on
demonstrations: here, the best-by-gold sample out of ``demo_pool`` source samples
(a demonstrator who writes good answers). Both report the held-out loss next to
the source's own entropy, so the gap is the model's KL from the source per word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.seq.checkpoints import cached, config_key, save_params, store
from specgym.seq.gold import Gold, gold_features, gold_reward
from specgym.seq.mle import MLEConfig, nll_per_word, train_mle_jit
from specgym.seq.plots import plot_training_curves
from specgym.seq.policy import PolicyConfig, init_policy, prefixes, sample
from specgym.seq.world import World, sample_source, source_log_prob
from specgym.settings import POSITIVE_INT, check_fields


@dataclass(frozen=True)
class PretrainConfig:
    dataset: int = 40_000
    """Source sequences in the pretraining corpus."""
    mle: MLEConfig = MLEConfig(steps=600)
    """The maximum-likelihood loop."""
    policy: PolicyConfig = PolicyConfig()
    """Network sizes."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"dataset": POSITIVE_INT})


@dataclass(frozen=True)
class SFTConfig:
    demonstrations: int = 2000
    """Demonstrations written by the demonstrator."""
    demo_pool: int = 8
    """The demonstrator writes this many source drafts and keeps the gold-best."""
    mle: MLEConfig = MLEConfig(steps=300, learning_rate=1e-3)
    """The fine-tuning loop."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"demonstrations": POSITIVE_INT, "demo_pool": POSITIVE_INT})


@dataclass(frozen=True)
class PretrainRun:
    pretrain: PretrainConfig = PretrainConfig()
    """Pretraining."""
    sft: SFTConfig = SFTConfig()
    """Supervised fine-tuning."""
    eval_samples: int = 4000
    """Samples per policy in the evaluation."""
    world: World = field(default_factory=World)
    """The toy language."""
    gold: Gold = field(default_factory=Gold)
    """The gold reward."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"eval_samples": POSITIVE_INT})


def pretrain_policy(key: jax.Array, world: World, cfg: PretrainConfig = PretrainConfig()) -> tuple[dict, jax.Array]:
    """MLE on ``cfg.dataset`` source sequences; returns (params, loss per step)."""
    key_data, key_init, key_fit = jax.random.split(key, 3)
    corpus = sample_source(key_data, world, cfg.dataset)
    params = init_policy(key_init, world, cfg.policy)
    return train_mle_jit(params, key_fit, corpus, prefixes(world.bos, cfg.dataset), cfg.mle)


def reference_policy(world: World, cfg: PretrainConfig, seed: int, cache_dir: Path | None) -> tuple[dict, bool]:
    """The pretrained policy for (world, cfg, seed), from the cache when it is there."""
    return cached(cache_dir, "pretrained", config_key(world, cfg, seed=seed),
                  lambda: pretrain_policy(jax.random.PRNGKey(seed), world, cfg)[0])


def demonstrations(key: jax.Array, world: World, gold: Gold, cfg: SFTConfig) -> jax.Array:
    drafts = sample_source(key, world, cfg.demonstrations * cfg.demo_pool)
    drafts = drafts.reshape(cfg.demonstrations, cfg.demo_pool, world.length)
    best = jnp.argmax(gold_reward(world, gold, drafts), axis=1)
    return drafts[jnp.arange(cfg.demonstrations), best]


def sft_policy(key: jax.Array, reference: dict, world: World, gold: Gold, cfg: SFTConfig = SFTConfig()) -> dict:
    key_demo, key_fit = jax.random.split(key)
    demos = demonstrations(key_demo, world, gold, cfg)
    params, _ = train_mle_jit(reference, key_fit, demos, prefixes(world.bos, demos.shape[0]), cfg.mle)
    return params


def language_quality(key: jax.Array, params: dict, world: World, count: int = 4000) -> dict:
    """Held-out NLL per word on source text, and the source's own (the floor)."""
    held_out = sample_source(key, world, count)
    model = float(nll_per_word(params, held_out, prefixes(world.bos, count)))
    floor = float(-source_log_prob(world, held_out).mean() / world.length)
    return {"nll_per_word": model, "source_entropy_per_word": floor, "excess_nll_per_word": model - floor}


def policy_report(key: jax.Array, params: dict, world: World, gold: Gold, count: int = 4000,
                  prefix_token: int | None = None) -> dict:
    """Gold features of ``count`` samples plus the language-quality numbers."""
    key_sample, key_quality = jax.random.split(key)
    token = world.bos if prefix_token is None else prefix_token
    tokens = sample(params, key_sample, prefixes(token, count), world.length)
    return {**gold_features(world, gold, tokens), **language_quality(key_quality, params, world)}


def run_pretrain(cfg: PretrainRun, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    """Pretrain from scratch (and refresh the cache); held-out loss against the source's entropy."""
    world = cfg.world.validate()
    params, losses = pretrain_policy(jax.random.PRNGKey(seed), world, cfg.pretrain)
    store(cache_dir, "pretrained", config_key(world, cfg.pretrain, seed=seed), params)
    save_params(run_dir / "pretrained.npz", params)
    losses = np.asarray(losses)
    plot_training_curves({"NLL per word": {"training batches": losses[None]}}, run_dir / "pretrain.png",
                         "pretraining on the source", "Adam step")
    report = policy_report(jax.random.PRNGKey(seed + 1), params, world, cfg.gold, cfg.eval_samples)
    source = gold_features(world, cfg.gold, sample_source(jax.random.PRNGKey(seed + 2), world, cfg.eval_samples))
    return {"step": "pretrain", "policy": report, "source": source, "final_train_nll": float(losses[-20:].mean()),
            "table": _table({"source": source, "pretrained": report})}


def run_sft(cfg: PretrainRun, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    """Fine-tune the pretrained policy on gold-best-of-k demonstrations; before and after."""
    world = cfg.world.validate()
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    tuned = sft_policy(jax.random.PRNGKey(seed + 3), reference, world, cfg.gold, cfg.sft)
    save_params(run_dir / "sft.npz", tuned)
    key = jax.random.PRNGKey(seed + 4)
    before = policy_report(key, reference, world, cfg.gold, cfg.eval_samples)
    after = policy_report(key, tuned, world, cfg.gold, cfg.eval_samples)
    demos = gold_features(world, cfg.gold, demonstrations(jax.random.PRNGKey(seed + 5), world, cfg.gold, cfg.sft))
    return {"step": "sft", "pretrained": before, "sft": after, "demonstrations": demos,
            "table": _table({"pretrained": before, "demonstrations": demos, "sft": after})}


def _table(rows: dict) -> list[str]:
    keys = [k for k in dict.fromkeys(k for values in rows.values() for k in values) if k != "source_entropy_per_word"]
    lines = [f"{'':16s}" + "".join(f"{k[:14]:>15s}" for k in keys)]
    for name, values in rows.items():
        lines.append(f"{name:16s}" + "".join(f"{values[k]:15.3f}" if k in values else f"{'-':>15s}" for k in keys))
    return lines
