"""The gold-labelled RLHF steps: a proxy from comparisons, best-of-n against it, PPO against it.

Each step builds on the pretrained reference policy (from the cache when there)
and runs ``seeds`` independent proxies / policies vmapped. Summaries hold the
numbers per seed with their IQM and 95% CI; pictures go into the run directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.compile_options import LONG_RUNNING
from specgym.seq.best_of_n import best_of_n_scores, n_grid
from specgym.seq.checkpoints import save_params
from specgym.seq.gold import Gold, count_in, gold_reward
from specgym.seq.plots import plot_score_by_helpful_words, plot_training_curves
from specgym.seq.policy import prefixes, sample, sequence_kl
from specgym.seq.ppo_kl import PPOTrainer, SeqPPOConfig
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import (
    RMConfig,
    gold_comparisons,
    preference_accuracy,
    reward_model_score,
    train_reward_model,
)
from specgym.seq.world import World, sample_source
from specgym.settings import POSITIVE_INT, check_fields
from specgym.stats import summarize


@dataclass(frozen=True)
class SeqRLHFConfig:
    seeds: int = 4
    """Independent proxies / policies (statistics are over these)."""
    rm: RMConfig = RMConfig()
    """The proxy and its comparisons."""
    ppo: SeqPPOConfig = SeqPPOConfig(updates=100, kl_coef=0.1, learning_rate=3e-5)
    """PPO against the proxy (set ppo.kl_target > 0 for the adaptive KL coefficient)."""
    max_n: int = 1000
    """Largest n of best-of-n."""
    pool: int = 20_000
    """Reference samples scored for best-of-n."""
    eval_samples: int = 2000
    """Samples per policy in the final evaluation."""
    pretrain: PretrainConfig = PretrainConfig()
    """The reference policy."""
    world: World = field(default_factory=World)
    """The toy language."""
    gold: Gold = field(default_factory=Gold)
    """The gold reward."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"seeds": POSITIVE_INT, "max_n": POSITIVE_INT, "pool": POSITIVE_INT,
                            "eval_samples": POSITIVE_INT})


def train_proxies(key: jax.Array, reference: dict, world: World, gold: Gold, rm_cfg: RMConfig, seeds: int) -> dict:
    """``seeds`` proxies, each on its own gold-labelled comparisons of reference samples; stacked on axis 0."""

    def one(seed_key):
        k_pairs, k_fit = jax.random.split(seed_key)
        chosen, rejected = gold_labelled_pairs(k_pairs, reference, world, gold, rm_cfg.comparisons,
                                               rm_cfg.label_temperature)
        return train_reward_model(k_fit, world, chosen, rejected, rm_cfg)[0]

    return jax.jit(jax.vmap(one))(jax.random.split(key, seeds))


def gold_labelled_pairs(key: jax.Array, reference: dict, world: World, gold: Gold, count: int,
                        temperature: float) -> tuple[jax.Array, jax.Array]:
    """``count`` (chosen, rejected) pairs of reference samples, labelled by the noisy gold labeller."""
    k_sample, k_label = jax.random.split(key)
    drafts = sample(reference, k_sample, prefixes(world.bos, 2 * count), world.length)
    return gold_comparisons(k_label, world, gold, drafts[:count], drafts[count:], temperature)


def overshoot_pairs(key: jax.Array, world: World, gold: Gold, count: int, margin: int = 2) -> tuple[jax.Array, jax.Array]:
    """Pairs of source sequences that both overshoot the gold's helpful optimum by ``margin`` words or more."""
    drafts = np.asarray(sample_source(key, world, 40 * count))
    many = drafts[np.asarray(count_in(drafts, world.helpful_tokens)) >= gold.helpful_optimum + margin]
    half = min(count, many.shape[0] // 2)
    return jnp.asarray(many[:half]), jnp.asarray(many[half:2 * half])


def score_by_helpful_words(key: jax.Array, proxies: dict, world: World, gold: Gold, count: int = 100_000) -> dict:
    """Mean gold and mean proxy (per seed, centred on the source mean) of source sequences with h helpful words."""
    tokens = sample_source(key, world, count)
    helpful = np.asarray(count_in(tokens, world.helpful_tokens))
    gold_scores = np.asarray(gold_reward(world, gold, tokens))
    proxy = np.asarray(jax.vmap(reward_model_score, in_axes=(0, None))(proxies, tokens))
    proxy = proxy - proxy.mean(axis=1, keepdims=True)
    levels = [h for h in range(world.length + 1) if (helpful == h).sum() >= 20]
    return {"helpful_words": levels, "share": [float((helpful == h).mean()) for h in levels],
            "gold": [float(gold_scores[helpful == h].mean() - gold_scores.mean()) for h in levels],
            "proxy_per_seed": [[float(p[helpful == h].mean()) for h in levels] for p in proxy]}


def run_rm(cfg: SeqRLHFConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    """Train the proxies; agreement with gold on and off the data, and how each scores helpful words."""
    world, gold = cfg.world.validate(), cfg.gold
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    k_rm, k_ref, k_off, k_curve = jax.random.split(jax.random.PRNGKey(seed + 11), 4)
    proxies = train_proxies(k_rm, reference, world, gold, cfg.rm, cfg.seeds)
    fresh = sample(reference, k_ref, prefixes(world.bos, 4000), world.length)
    off_a, off_b = overshoot_pairs(k_off, world, gold, 2000)
    accuracy = jax.vmap(lambda p, a, b: preference_accuracy(p, world, gold, a, b), in_axes=(0, None, None))
    on_dist = np.asarray(accuracy(proxies, fresh[:2000], fresh[2000:]))
    off_dist = np.asarray(accuracy(proxies, off_a, off_b))
    curve = score_by_helpful_words(k_curve, proxies, world, gold)
    plot_score_by_helpful_words(curve, gold.helpful_optimum, run_dir / "rm.png")
    save_params(run_dir / "proxies.npz", proxies)
    proxy_mean = np.mean(curve["proxy_per_seed"], axis=0)
    lines = [f"proxy: {cfg.rm.comparisons} comparisons, width {cfg.rm.hidden}, {cfg.seeds} seeds",
             f"agrees with gold on reference pairs      {_fmt(summarize(on_dist))}",
             f"agrees with gold on over-helpful pairs   {_fmt(summarize(off_dist))}  "
             f"({int(off_a.shape[0])} pairs, both >= {gold.helpful_optimum + 2} helpful words)",
             f"{'helpful words':>13s} {'share':>7s} {'gold':>7s} {'proxy':>7s}   (means vs the source mean)"]
    lines += [f"{h:13d} {s:7.3f} {g:7.2f} {p:7.2f}" for h, s, g, p in
              zip(curve["helpful_words"], curve["share"], curve["gold"], proxy_mean, strict=True)]
    return {"step": "rm", "comparisons": cfg.rm.comparisons, "hidden": cfg.rm.hidden, "seeds": cfg.seeds,
            "accuracy_reference_pairs": summarize(on_dist), "accuracy_overhelpful_pairs": summarize(off_dist),
            "overhelpful_pairs": int(off_a.shape[0]), "score_by_helpful_words": curve, "table": lines}


def run_bon(cfg: SeqRLHFConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    """Best-of-n against each proxy: gold and proxy of the selected sample against n and KL."""
    world, gold = cfg.world.validate(), cfg.gold
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    k_rm, k_pool = jax.random.split(jax.random.PRNGKey(seed + 12))
    proxies = train_proxies(k_rm, reference, world, gold, cfg.rm, cfg.seeds)
    pool = sample(reference, k_pool, prefixes(world.bos, cfg.pool), world.length)
    pool_gold = np.asarray(gold_reward(world, gold, pool))
    scores = np.asarray(jax.vmap(reward_model_score, in_axes=(0, None))(proxies, pool))
    ns = n_grid(min(cfg.max_n, cfg.pool), 16)
    curves = [best_of_n_scores(scores[s], pool_gold, ns) for s in range(cfg.seeds)]
    gold_curves = np.array([c["gold"] for c in curves])
    proxy_curves = np.array([c["proxy"] for c in curves]) - scores.mean(axis=1, keepdims=True)
    plot_training_curves({"gold score": {"best-of-n": gold_curves}, "proxy gain": {"best-of-n": proxy_curves}},
                         run_dir / "best_of_n.png", "best-of-n against the proxy (x: index into n)", "n index")
    best = np.argmax(gold_curves.mean(0))
    return {"step": "bon", "n": curves[0]["n"], "kl": curves[0]["kl"], "gold": gold_curves.mean(0).tolist(),
            "proxy_gain": proxy_curves.mean(0).tolist(), "gold_per_seed": gold_curves.tolist(),
            "reference_gold": float(pool_gold.mean()), "best_n_for_gold": int(ns[best]),
            "gold_at_best_n": summarize(gold_curves[:, best]), "gold_at_max_n": summarize(gold_curves[:, -1]),
            "table": [f"{'n':>6} {'KL':>6} {'gold':>7} {'proxy gain':>10}"]
                     + [f"{n:6d} {k:6.2f} {g:7.2f} {p:10.2f}" for n, k, g, p in
                        zip(ns, curves[0]["kl"], gold_curves.mean(0), proxy_curves.mean(0), strict=True)]}


def evaluate_policies(key: jax.Array, policies: dict, reference: dict, world: World, gold: Gold, count: int,
                      prefix_token: int | None = None) -> dict:
    """Per-seed gold, helpful and harmful words, and KL from the reference, of stacked policies."""
    token = world.bos if prefix_token is None else prefix_token

    def one(params, k):
        tokens = sample(params, k, prefixes(token, count), world.length)
        kl = sequence_kl(params, reference, tokens, prefixes(token, count)).mean()
        harmful = {f"word_{w}": count_in(tokens, (w,)).mean() for w in world.harmful_tokens}
        return {"gold": gold_reward(world, gold, tokens).mean(), "kl": kl,
                "helpful_words": count_in(tokens, world.helpful_tokens).mean(),
                "harmful_words": count_in(tokens, world.harmful_tokens).mean(), **harmful}

    seeds = jax.tree.leaves(policies)[0].shape[0]
    values = jax.device_get(jax.jit(jax.vmap(one))(policies, jax.random.split(key, seeds)))
    return {k: summarize(v) for k, v in values.items()}


def train_ppo(cfg: SeqRLHFConfig, reference: dict, reward_params, reward_fn, key: jax.Array) -> tuple[dict, dict]:
    """PPO (vmapped over the leading axis of ``reward_params``); returns (policies, per-update metrics)."""
    trainer = PPOTrainer(cfg.world, cfg.gold, cfg.ppo, reward_fn)
    seeds = jax.tree.leaves(reward_params)[0].shape[0]
    runners = jax.vmap(lambda k: trainer.init(k, reference))(jax.random.split(key, seeds))
    runners, metrics = jax.jit(jax.vmap(lambda r, rm: trainer.run(r, reference, rm, cfg.ppo.updates)),
                               compiler_options=LONG_RUNNING)(
        runners, reward_params)
    return runners["params"], jax.device_get(metrics)


def run_ppo(cfg: SeqRLHFConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    """PPO with a KL penalty against gold-trained proxies; curves and the final policies' gold and KL."""
    world, gold = cfg.world.validate(), cfg.gold
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    k_rm, k_ppo, k_eval = jax.random.split(jax.random.PRNGKey(seed + 13), 3)
    proxies = train_proxies(k_rm, reference, world, gold, cfg.rm, cfg.seeds)
    policies, metrics = train_ppo(cfg, reference, proxies, reward_model_score, k_ppo)
    plot_training_curves({"gold": {"gold": metrics["gold"]}, "proxy": {"proxy": metrics["proxy"]},
                          "KL(policy || reference)": {"KL": metrics["kl"]}, "KL coefficient": {"beta": metrics["beta"]}},
                         run_dir / "ppo.png", f"PPO against the proxy, KL coefficient {cfg.ppo.kl_coef}"
                         + (f", adaptive to {cfg.ppo.kl_target} nats" if cfg.ppo.kl_target > 0 else ""))
    save_params(run_dir / "policies.npz", policies)
    final = evaluate_policies(k_eval, policies, reference, world, gold, cfg.eval_samples)
    start = evaluate_policies(k_eval, jax.tree.map(lambda x: x[None], reference), reference, world, gold,
                              cfg.eval_samples)
    return {"step": "ppo", "kl_coef": cfg.ppo.kl_coef, "kl_target": cfg.ppo.kl_target, "reference": start,
            "final": final, "curves": {k: np.asarray(v).mean(0).tolist() for k, v in metrics.items()},
            "table": _compare_table({"reference": start, "ppo": final})}


def _fmt(stat: dict) -> str:
    low, high = stat["ci95"]
    return f"{stat['iqm']:7.3f}  [{low:.3f}, {high:.3f}]"


def _compare_table(rows: dict) -> list[str]:
    keys = list(next(iter(rows.values())))
    width = max(len(name) for name in rows) + 1
    lines = [" " * width + "".join(f"{k:>24s}" for k in keys)]
    for name, stats in rows.items():
        lines.append(f"{name:{width}s}" + "".join(f"{stats[k]['iqm']:9.2f} [{stats[k]['ci95'][0]:5.2f},{stats[k]['ci95'][1]:5.2f}]"
                                         for k in keys))
    return lines


compare_table = _compare_table
