"""RL from AI feedback against gold-labelled RLHF, on the same pairs and the same budget.

For every seed one set of reference-sample pairs is labelled twice: by the gold
labeller (standing in for people) and by the AI evaluator applying the
constitution. Each label set trains a Bradley-Terry proxy and PPO (with the KL
penalty) optimises against it. The report puts the two side by side on the
helpfulness-harmlessness plane and splits harmful words into the one the
constitution lists and the one it forgot, so a gamed principle shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.compile_options import LONG_RUNNING
from specgym.seq.constitution import CONSTITUTION, ai_preferences
from specgym.seq.gold import Gold, count_in, gold_comparisons_agree, gold_reward, helpfulness
from specgym.seq.plots import plot_tradeoff
from specgym.seq.policy import prefixes, sample
from specgym.seq.ppo_kl import SeqPPOConfig
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import RMConfig, gold_comparisons, reward_model_score, train_reward_model
from specgym.seq.rlhf import SeqRLHFConfig, compare_table, train_ppo
from specgym.seq.world import World
from specgym.settings import POSITIVE_INT, check_fields
from specgym.stats import summarize


@dataclass(frozen=True)
class RLAIFConfig:
    seeds: int = 4
    """Independent label sets / policies per method."""
    rm: RMConfig = RMConfig()
    """Comparison count, proxy size and the gold labeller's noise."""
    ppo: SeqPPOConfig = SeqPPOConfig(updates=100, kl_coef=0.1, learning_rate=3e-5)
    """PPO against either proxy."""
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
        check_fields(self, {"seeds": POSITIVE_INT, "eval_samples": POSITIVE_INT})


def label_both(key: jax.Array, reference: dict, world: World, gold: Gold, rm_cfg: RMConfig) -> dict:
    """One set of pairs labelled by the gold labeller and by the AI evaluator."""
    k_sample, k_gold, k_ai = jax.random.split(key, 3)
    n = rm_cfg.comparisons
    drafts = sample(reference, k_sample, prefixes(world.bos, 2 * n), world.length)
    human = gold_comparisons(k_gold, world, gold, drafts[:n], drafts[n:], rm_cfg.label_temperature)
    ai_chosen, ai_rejected, which = ai_preferences(k_ai, world, drafts[:n], drafts[n:])
    return {"gold": human, "ai": (ai_chosen, ai_rejected), "principle": which,
            "agreement": gold_comparisons_agree(world, gold, ai_chosen, ai_rejected)}


def run_rlaif(cfg: RLAIFConfig, seed: int, cache_dir: Path | None, run_dir: Path, progress: bool = True) -> dict:
    world, gold = cfg.world.validate(), cfg.gold
    reference, _ = reference_policy(world, cfg.pretrain, seed, cache_dir)
    k_label, k_rm, k_ppo, k_eval = jax.random.split(jax.random.PRNGKey(seed + 31), 4)
    labels = jax.jit(jax.vmap(lambda k: label_both(k, reference, world, gold, cfg.rm)))(
        jax.random.split(k_label, cfg.seeds))
    fit = jax.jit(jax.vmap(lambda k, c, r: train_reward_model(k, world, c, r, cfg.rm)[0]), compiler_options=LONG_RUNNING)
    rm_keys = jax.random.split(k_rm, cfg.seeds)
    proxies = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), fit(rm_keys, *labels["gold"]),
                           fit(rm_keys, *labels["ai"]))
    ppo_cfg = SeqRLHFConfig(ppo=cfg.ppo, world=world, gold=gold)
    policies, _ = train_ppo(ppo_cfg, reference, proxies, reward_model_score, k_ppo)

    def evaluate(params, k):
        tokens = sample(params, k, prefixes(world.bos, cfg.eval_samples), world.length)
        out = {"gold": gold_reward(world, gold, tokens).mean(),
               "helpfulness": helpfulness(world, gold, tokens).mean(),
               "helpful_words": count_in(tokens, world.helpful_tokens).mean(),
               "harmful_words": count_in(tokens, world.harmful_tokens).mean()}
        for w in world.harmful_tokens:
            out[f"word_{w}"] = count_in(tokens, (w,)).mean()
        return out

    stacked = jax.tree.map(lambda r, p: jnp.concatenate([r[None], p]), reference, policies)
    values = jax.device_get(jax.jit(jax.vmap(evaluate))(stacked, jax.random.split(k_eval, 2 * cfg.seeds + 1)))
    groups = {"reference": slice(0, 1), "RLHF (gold labels)": slice(1, 1 + cfg.seeds),
              "RLAIF (constitution)": slice(1 + cfg.seeds, None)}
    results = {name: {k: summarize(np.asarray(v)[idx]) for k, v in values.items()} for name, idx in groups.items()}
    listed, forgotten = world.harmful_tokens[0], world.harmful_tokens[1:]
    plot_tradeoff(results, run_dir / "rlaif.png", gold.helpful_optimum)
    agreement = summarize(np.asarray(labels["agreement"]))
    lines = compare_table(results)
    lines.append(f"AI labels agree with gold labels on {agreement['iqm']:.1%} of pairs; constitution lists harmful "
                 f"word {listed} and forgets {', '.join(map(str, forgotten))}")
    return {"step": "rlaif", "constitution": [{"name": p.name, "text": p.text} for p in CONSTITUTION],
            "label_agreement": agreement, "results": results, "helpful_optimum": gold.helpful_optimum,
            "listed_harmful_word": listed, "forgotten_harmful_words": list(forgotten), "table": lines}
