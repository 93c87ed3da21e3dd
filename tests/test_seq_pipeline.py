"""specgym seq: the CLI, settings, the constitution, and (slow) the overoptimisation and PHF results."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.cli import main
from specgym.seq.best_of_n import best_of_n_kl, best_of_n_scores, n_grid
from specgym.seq.constitution import CONSTITUTION, ai_preferences
from specgym.seq.fits import fit_with_holdout
from specgym.seq.gold import Gold, gold_reward, undesirable
from specgym.seq.mle import MLEConfig
from specgym.seq.overoptimization import OveroptimizationConfig
from specgym.seq.phf import PHFConfig, evaluate, pretrain_variant
from specgym.seq.policy import prefixes, sample
from specgym.seq.ppo_kl import SeqPPOConfig
from specgym.seq.pretrain import PretrainConfig, reference_policy
from specgym.seq.reward_model import RMConfig, reward_model_score
from specgym.seq.rlhf import SeqRLHFConfig, train_ppo, train_proxies
from specgym.seq.world import World, sample_source
from specgym.settings import replace_fields

WORLD, GOLD = World(), Gold()
QUICK_PRETRAIN = PretrainConfig(mle=MLEConfig(steps=300))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    params, _ = reference_policy(WORLD, QUICK_PRETRAIN, 0, tmp_path_factory.mktemp("seq-cache"))
    return params


def test_unknown_setting_is_one_clear_line(capsys):
    assert main(["seq", "rm", "--set", "rm.nonsense=3"]) == 2
    err = capsys.readouterr().err
    assert "unknown setting 'rm.nonsense'" in err and "rm.comparisons" in err and "Traceback" not in err
    assert main(["seq", "bon", "--set", "seeds=two"]) == 2
    assert "bad value 'two' for setting 'seeds': expected an integer" in capsys.readouterr().err


def test_settings_reach_nested_fields():
    cfg = replace_fields(OveroptimizationConfig(), {"comparisons": "10,20", "ppo.kl_coef": "0.2", "world.length": "8"})
    assert cfg.comparisons == (10, 20) and cfg.ppo.kl_coef == 0.2 and cfg.world.length == 8


def test_ai_evaluator_prefers_by_the_drawn_principle():
    first = jax.random.randint(jax.random.PRNGKey(0), (500, WORLD.length), 0, WORLD.vocab_size)
    second = jax.random.randint(jax.random.PRNGKey(1), (500, WORLD.length), 0, WORLD.vocab_size)
    chosen, rejected, which = ai_preferences(jax.random.PRNGKey(2), WORLD, first, second)
    chosen_scores = np.stack([np.asarray(p.score(WORLD, chosen)) for p in CONSTITUTION])
    rejected_scores = np.stack([np.asarray(p.score(WORLD, rejected)) for p in CONSTITUTION])
    rows, picked = np.arange(500), np.asarray(which)
    assert np.all(chosen_scores[picked, rows] >= rejected_scores[picked, rows])
    assert np.any(chosen_scores[picked, rows] > rejected_scores[picked, rows])
    assert set(np.asarray(which).tolist()) == {0, 1, 2}
    # the harmless principle only knows the first harmful word: the forgotten one scores as harmless
    assert int(CONSTITUTION[1].score(WORLD, jnp.full((WORLD.length,), WORLD.harmful_tokens[1]))) == 0


def test_bon_command_writes_a_run_directory(tmp_path, capsys):
    settings = ["pretrain.mle.steps=30", "pretrain.dataset=500", "rm.steps=30", "rm.comparisons=60", "pool=300",
                "max_n=100", "seeds=2"]
    args = ["seq", "bon", "--out", str(tmp_path), "--cache", str(tmp_path / "cache"), "--json", "--quiet"]
    assert main(args + [a for s in settings for a in ("--set", s)]) == 0
    summary = json.loads(capsys.readouterr().out)
    run_dir = tmp_path / summary["run_dir"].split("/")[-1]
    assert (run_dir / "summary.json").exists() and (run_dir / "best_of_n.png").exists()
    assert summary["n"][0] == 1 and summary["n"][-1] == 100
    assert np.allclose(summary["kl"], best_of_n_kl(np.array(summary["n"])))
    assert summary["gold"][0] == pytest.approx(summary["reference_gold"], abs=1e-4)  # n = 1 is the reference
    assert np.all(np.diff(summary["proxy_gain"]) >= -1e-9)  # the proxy of the best of n never falls


def _bon_gold_gain(reference, comparisons, seeds=3):
    proxies = train_proxies(jax.random.PRNGKey(comparisons), reference, WORLD, GOLD,
                            RMConfig(comparisons=comparisons), seeds)
    pool = sample(reference, jax.random.PRNGKey(5), prefixes(WORLD.bos, 20_000), WORLD.length)
    gold = np.asarray(gold_reward(WORLD, GOLD, pool))
    scores = np.asarray(jax.vmap(reward_model_score, in_axes=(0, None))(proxies, pool))
    ns = n_grid(1000, 16)
    curves = [best_of_n_scores(scores[s], gold, ns) for s in range(seeds)]
    gold_gain = np.mean([c["gold"] for c in curves], axis=0) - gold.mean()
    proxy_gain = np.mean([np.asarray(c["proxy"]) - c["proxy"][0] for c in curves], axis=0)
    return np.sqrt(best_of_n_kl(ns)), gold_gain, proxy_gain


@pytest.mark.slow
def test_best_of_n_overoptimises_a_small_proxy_and_more_data_pushes_the_peak_out(reference):
    d, gold_small, proxy_small = _bon_gold_gain(reference, 100)
    _, gold_large, _ = _bon_gold_gain(reference, 4000)
    assert np.all(np.diff(proxy_small) > 0)  # the proxy keeps rising
    peak = int(np.argmax(gold_small))
    assert 0 < peak < d.size - 2 and gold_small[peak] - gold_small[-1] > 0.1  # gold peaks, then falls
    fit_small, fit_large = fit_with_holdout("bon", d, gold_small), fit_with_holdout("bon", d, gold_large)
    assert fit_small["r2_heldout"] > 0.9 and fit_large["r2_heldout"] > 0.9
    assert fit_large["peak_d"] > fit_small["peak_d"] and gold_large.max() > gold_small.max()


@pytest.mark.slow
def test_ppo_without_kl_penalty_overoptimises_the_proxy(reference):
    proxies = train_proxies(jax.random.PRNGKey(7), reference, WORLD, GOLD, RMConfig(comparisons=250), 2)
    cfg = SeqRLHFConfig(ppo=SeqPPOConfig(updates=100, kl_coef=0.0, learning_rate=4e-5))
    _, metrics = train_ppo(cfg, reference, proxies, reward_model_score, jax.random.PRNGKey(8))
    gold = np.asarray(metrics["gold"]).reshape(2, 10, 10).mean(axis=(0, 2))  # 10 checkpoints of 10 updates
    proxy = np.asarray(metrics["proxy"]).reshape(2, 10, 10).mean(axis=(0, 2))
    kl = np.asarray(metrics["kl"]).reshape(2, 10, 10).mean(axis=(0, 2))
    peak = int(np.argmax(gold))
    assert gold[peak] > gold[0] and peak < 8 and gold[-1] < gold[peak] - 1.0
    assert proxy[-1] > proxy[peak] + 1.0 and kl[-1] > kl[peak]


@pytest.mark.slow
def test_conditional_pretraining_cuts_undesirable_text_at_a_smaller_cost_than_filtering():
    cfg = PHFConfig(seeds=2, dataset=8000, mle=MLEConfig(steps=250), eval_samples=2000)
    key = jax.random.PRNGKey(0)
    corpus = sample_source(key, WORLD, cfg.dataset)
    good_share = float(1.0 - undesirable(WORLD, corpus).mean())
    results = {}
    for mode, token, conditional in (("standard", WORLD.bos, False), ("filtering", WORLD.bos, False),
                                     ("conditional", WORLD.good, True)):
        models, _ = pretrain_variant(cfg, WORLD, key, mode)
        stats = jax.vmap(lambda p, k, token=token, conditional=conditional: evaluate(
            k, p, WORLD, GOLD, cfg.eval_samples, token, conditional, good_share))(
            models, jax.random.split(jax.random.PRNGKey(1), cfg.seeds))
        results[mode] = {k: float(np.mean(v)) for k, v in stats.items()}
    assert 1 - good_share > 0.3 and results["standard"]["undesirable_rate"] > 0.3
    for mode in ("filtering", "conditional"):
        assert results[mode]["undesirable_rate"] < 0.2 * results["standard"]["undesirable_rate"]  # 5x fewer at least
    # filtering never sees undesirable text, so it models ordinary text worse than conditional training
    assert results["conditional"]["nll_per_word"] < results["filtering"]["nll_per_word"] - 0.05
