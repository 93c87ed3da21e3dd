"""Reward-model overoptimisation (Gao, Schulman & Hilton 2022) in the toy world.

For every proxy setting (how many gold-labelled comparisons, how wide the proxy)
and seed, one proxy is trained on comparisons of reference samples. It is then
optimised two ways:

- **best-of-n** for n = 1 .. max_n, scored on one pool of reference samples with
  the unbiased estimator, at d = sqrt(log n - (n - 1) / n);
- **PPO** with no KL penalty (by default), all settings and seeds vmapped in one
  compiled run; the updates are grouped into checkpoints, each reporting the mean
  proxy, gold and KL estimate of the batches it holds, at d = sqrt(KL).

Gains are measured from the reference policy (d = 0). The gold gain is fitted with
d (alpha - beta d) for best-of-n and d (alpha - beta log d) for PPO on every other
point and judged by R^2 on the rest; per-seed fits give alpha and beta with their
IQM and 95% CI per setting.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.compile_options import LONG_RUNNING
from specgym.progress import Progress
from specgym.seq.best_of_n import best_of_n_scores, n_grid
from specgym.seq.fits import fit_with_holdout
from specgym.seq.gold import Gold, gold_reward
from specgym.seq.plots import plot_overoptimization
from specgym.seq.policy import prefixes, sample
from specgym.seq.ppo_kl import PPOTrainer, SeqPPOConfig
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import RMConfig, reward_model_score
from specgym.seq.rlhf import train_proxies
from specgym.seq.world import World
from specgym.settings import POSITIVE_INT, POSITIVE_INTS, check_fields
from specgym.stats import summarize


@dataclass(frozen=True)
class OveroptimizationConfig:
    comparisons: tuple[int, ...] = (250, 1000, 4000)
    """Proxy training-set sizes N, one setting each."""
    hidden: tuple[int, ...] = (32,)
    """Proxy widths; every (N, width) pair is a setting."""
    seeds: int = 6
    """Proxies (and PPO runs) per setting."""
    pool: int = 20_000
    """Reference samples scored for best-of-n."""
    max_n: int = 1000
    """Largest n of best-of-n."""
    bon_points: int = 16
    """Values of n, evenly spaced in log n."""
    checkpoints: int = 25
    """PPO checkpoints (groups of consecutive updates)."""
    rm: RMConfig = RMConfig()
    """Proxy training (its ``comparisons`` and ``hidden`` are set per setting)."""
    ppo: SeqPPOConfig = SeqPPOConfig(updates=200, kl_coef=0.0, learning_rate=4e-5)
    """PPO against each proxy."""
    pretrain: PretrainConfig = PretrainConfig()
    """The reference policy."""
    world: World = field(default_factory=World)
    """The toy language."""
    gold: Gold = field(default_factory=Gold)
    """The gold reward."""

    def __post_init__(self):
        """Refuse values the step cannot run with, in one line naming the field."""
        check_fields(self, {"comparisons": POSITIVE_INTS, "hidden": POSITIVE_INTS,
                            **{name: POSITIVE_INT for name in ("seeds", "pool", "max_n", "bon_points", "checkpoints")}})


def _settings(cfg: OveroptimizationConfig) -> list[dict]:
    return [{"comparisons": n, "hidden": h} for h in cfg.hidden for n in cfg.comparisons]


def _proxies_for(key: jax.Array, reference: dict, cfg: OveroptimizationConfig, setting: dict) -> dict:
    rm_cfg = replace(cfg.rm, comparisons=setting["comparisons"], hidden=setting["hidden"])
    return train_proxies(key, reference, cfg.world, cfg.gold, rm_cfg, cfg.seeds)


def _checkpoint_means(values: np.ndarray, checkpoints: int) -> np.ndarray:
    """(runs, updates) -> (runs, checkpoints): means over consecutive groups of updates."""
    runs, updates = values.shape
    groups = np.array_split(np.arange(updates), checkpoints)
    return np.stack([values[:, g].mean(axis=1) for g in groups], axis=1)


def _fits(form: str, d: np.ndarray, gain: np.ndarray) -> dict:
    """Fit of the seed-mean curve plus alpha / beta / peak summarised over per-seed fits."""
    mean_fit = fit_with_holdout(form, d.mean(axis=0), gain.mean(axis=0))
    per_seed = [fit_with_holdout(form, d[s], gain[s]) for s in range(d.shape[0])]
    return {"mean_curve": mean_fit,
            **{k: summarize([f[k] for f in per_seed]) for k in ("alpha", "beta", "r2_heldout")}}


def _shape_checks(d: np.ndarray, gold: np.ndarray, proxy: np.ndarray) -> dict:
    """Does the proxy keep rising while the gold peaks and falls (on the seed-mean curve)?

    "Falls" asks for a peak before the last two points and a drop of more than 0.1
    and 10% of the peak gain, so noise around a plateau does not count.
    """
    peak = int(np.argmax(gold))
    drop = float(gold[peak] - gold[-1])
    return {"gold_drop_after_peak": drop, "gold_peak_d": float(d[peak]), "gold_peak_gain": float(gold[peak]), "gold_final_gain": float(gold[-1]),
            "proxy_gain_at_gold_peak": float(proxy[peak]), "proxy_final_gain": float(proxy[-1]),
            "gold_falls_after_peak": bool(peak < d.size - 2 and drop > max(0.1, 0.1 * abs(float(gold[peak])))),
            "proxy_rises_after_gold_peak": bool(proxy[-1] > proxy[peak])}


def run_overoptimization(cfg: OveroptimizationConfig = OveroptimizationConfig(), seed: int = 0,
                         cache_dir: Path | None = None, progress: bool = True) -> dict:
    """The whole experiment; returns the JSON-ready summary (curves, fits, checks, timings)."""
    started = time.perf_counter()
    world, gold = cfg.world.validate(), cfg.gold
    reference, was_cached = reference_policy(world, cfg.pretrain, seed, cache_dir)
    timings = {"pretrain_seconds": time.perf_counter() - started, "pretrain_cached": was_cached}
    settings = _settings(cfg)
    key_rm, key_pool, key_ppo = jax.random.split(jax.random.PRNGKey(seed + 1), 3)
    pool_keys = jax.random.split(key_pool, cfg.seeds)
    pool = jax.jit(jax.vmap(lambda k: sample(reference, k, prefixes(world.bos, cfg.pool), world.length)))(pool_keys)
    pool_gold = np.asarray(gold_reward(world, gold, pool))
    ns = n_grid(min(cfg.max_n, cfg.pool), cfg.bon_points)

    tick = time.perf_counter()
    proxies, bon = [], []
    for i, setting in enumerate(settings):
        stacked = _proxies_for(jax.random.fold_in(key_rm, i), reference, cfg, setting)
        proxies.append(stacked)
        scores = np.asarray(jax.jit(jax.vmap(reward_model_score))(stacked, pool))
        bon.append([best_of_n_scores(scores[s], pool_gold[s], ns) for s in range(cfg.seeds)])
    timings["proxies_and_bon_seconds"] = time.perf_counter() - tick

    # PPO: every (setting, seed) one vmapped run; the proxy's pool mean is its reference value.
    tick = time.perf_counter()
    ppo_runs = _run_ppo(cfg, reference, proxies, settings, key_ppo, progress)
    timings["ppo_seconds"] = time.perf_counter() - tick

    results = []
    for i, setting in enumerate(settings):
        bon_d = np.sqrt(np.array([b["kl"] for b in bon[i]]))
        bon_gold = np.array([b["gold"] for b in bon[i]])
        bon_proxy = np.array([b["proxy"] for b in bon[i]])
        bon_gold -= bon_gold[:, :1]
        bon_proxy -= bon_proxy[:, :1]
        proxy_ref = np.array([b["proxy"][0] for b in bon[i]])[:, None]
        gold_ref = pool_gold.mean(axis=1)[:, None]
        run = {k: v[i * cfg.seeds:(i + 1) * cfg.seeds] for k, v in ppo_runs.items()}
        rl_d = np.sqrt(np.maximum(_checkpoint_means(run["kl"], cfg.checkpoints), 0.0))
        rl_gold = _checkpoint_means(run["gold"], cfg.checkpoints) - gold_ref
        rl_proxy = _checkpoint_means(run["proxy"], cfg.checkpoints) - proxy_ref
        results.append({
            "setting": setting,
            "best_of_n": {"n": bon[i][0]["n"], "d": bon_d[0].tolist(),
                          "gold_gain": bon_gold.mean(0).tolist(), "proxy_gain": bon_proxy.mean(0).tolist(),
                          "gold_gain_per_seed": bon_gold.tolist(), "fit": _fits("bon", bon_d, bon_gold),
                          "checks": _shape_checks(bon_d[0], bon_gold.mean(0), bon_proxy.mean(0))},
            "ppo": {"d": rl_d.mean(0).tolist(), "gold_gain": rl_gold.mean(0).tolist(),
                    "proxy_gain": rl_proxy.mean(0).tolist(), "d_per_seed": rl_d.tolist(),
                    "gold_gain_per_seed": rl_gold.tolist(), "fit": _fits("rl", rl_d, rl_gold),
                    "checks": _shape_checks(rl_d.mean(0), rl_gold.mean(0), rl_proxy.mean(0))},
        })
    timings["total_seconds"] = time.perf_counter() - started
    return {"step": "overoptimization", "seed": seed, "seeds": cfg.seeds, "reference_gold": float(pool_gold.mean()),
            "settings": results, "scaling": scaling_table(results), "timings": timings}


def scaling_table(results: list[dict]) -> dict:
    """alpha, beta and the fitted gold peak per setting; does the peak move out as N grows (per width)?"""
    table = {}
    for method in ("best_of_n", "ppo"):
        rows = [{**r["setting"], "alpha": r[method]["fit"]["mean_curve"]["alpha"],
                 "beta": r[method]["fit"]["mean_curve"]["beta"], "peak_d": r[method]["fit"]["mean_curve"]["peak_d"],
                 "measured_peak_d": r[method]["checks"]["gold_peak_d"],
                 "r2_heldout": r[method]["fit"]["mean_curve"]["r2_heldout"]} for r in results]
        moves_out = True
        for width in {row["hidden"] for row in rows}:
            peaks = [row["peak_d"] for row in sorted(rows, key=lambda x: x["comparisons"]) if row["hidden"] == width]
            moves_out &= all(b >= a for a, b in itertools.pairwise(peaks))
        table[method] = {"rows": rows, "peak_moves_out_with_n": bool(moves_out)}
    return table


def _run_ppo(cfg, reference, proxies, settings, key, progress) -> dict:
    """PPO against every proxy; per-update metrics of shape (settings * seeds, updates).

    Proxies of one width share a shape, so each width is one vmapped compiled run.
    """
    trainer = PPOTrainer(cfg.world, cfg.gold, cfg.ppo, reward_model_score)
    widths = list(dict.fromkeys(s["hidden"] for s in settings))  # settings are ordered width-major
    groups = [jax.tree.map(lambda *a: jnp.concatenate(a), *[p for p, s in zip(proxies, settings, strict=True) if s["hidden"] == w])
              for w in widths]
    chunk = max(d for d in range(1, 11) if cfg.ppo.updates % d == 0)
    total_runs = len(settings) * cfg.seeds
    bar = Progress(cfg.ppo.updates * total_runs, unit="run-updates", label="ppo", enabled=progress)
    collected, done = [], 0
    for g, rms in enumerate(groups):
        runs = jax.tree.leaves(rms)[0].shape[0]
        runners = jax.vmap(lambda k: trainer.init(k, reference))(jax.random.split(jax.random.fold_in(key, g), runs))
        step = jax.jit(jax.vmap(lambda r, rm: trainer.run(r, reference, rm, chunk)), compiler_options=LONG_RUNNING)
        metrics = []
        for _ in range(0, cfg.ppo.updates, chunk):
            runners, m = step(runners, rms)
            metrics.append(jax.device_get(m))
            done += chunk * runs
            if len(metrics) == 1:
                bar.mark(done)  # the rate leaves out the first call, which compiled
            bar.update(done)
        collected.append({k: np.concatenate([m[k] for m in metrics], axis=1) for k in metrics[0]})
    bar.close()
    return {k: np.concatenate([c[k] for c in collected]) for k in collected[0]}


def run_overoptimization_step(cfg: OveroptimizationConfig, seed: int, cache_dir: Path | None, run_dir: Path,
                              progress: bool = True) -> dict:
    """The experiment plus its figure and a table of alpha, beta, peaks and held-out R^2."""
    summary = run_overoptimization(cfg, seed, cache_dir, progress)
    plot_overoptimization(summary, run_dir / "overoptimization.png")
    lines = [f"{'method':10s} {'N':>6s} {'width':>5s} {'alpha':>7s} {'beta':>7s} {'peak d':>7s} "
             f"{'measured':>8s} {'R2 held':>7s}  proxy rises / gold falls"]
    for method in ("best_of_n", "ppo"):
        for row, result in zip(summary["scaling"][method]["rows"], summary["settings"], strict=True):
            checks = result[method]["checks"]
            lines.append(f"{method:10s} {row['comparisons']:6d} {row['hidden']:5d} {row['alpha']:7.3f} "
                         f"{row['beta']:7.3f} {row['peak_d']:7.2f} {row['measured_peak_d']:8.2f} "
                         f"{row['r2_heldout']:7.3f}  {checks['proxy_rises_after_gold_peak']} / "
                         f"{checks['gold_falls_after_peak']}")
        lines.append(f"{method}: fitted gold peak moves out as N grows: "
                     f"{summary['scaling'][method]['peak_moves_out_with_n']}")
    t = summary["timings"]
    lines.append(f"time: {t['total_seconds']:.0f} s (proxies + best-of-n {t['proxies_and_bon_seconds']:.0f} s, "
                 f"PPO {t['ppo_seconds']:.0f} s, pretraining {t['pretrain_seconds']:.0f} s"
                 + (", cached)" if t["pretrain_cached"] else ")"))
    summary["table"] = lines
    return summary
