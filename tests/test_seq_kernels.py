"""Numerical kernels of specgym.seq against slow, obviously-correct references."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.seq import policy as pol
from specgym.seq.best_of_n import best_of_n_exact_kl, best_of_n_kl, best_of_n_scores
from specgym.seq.dpo import dpo_loss
from specgym.seq.fits import fit_with_holdout, peak_distance, predict
from specgym.seq.gold import Gold, gold_reward
from specgym.seq.ppo_kl import gae
from specgym.seq.reward_model import bradley_terry_loss, label_pairs
from specgym.seq.world import World, sample_source, source_log_prob

TINY = World(vocab_size=4, length=3, helpful_tokens=(0,), harmful_tokens=(1,))


@pytest.fixture(scope="module")
def tiny_policies():
    small = pol.PolicyConfig(embed=6, hidden=8)
    p = pol.init_policy(jax.random.PRNGKey(1), TINY, small)
    q = pol.init_policy(jax.random.PRNGKey(2), TINY, small)
    # larger output weights so the two distributions differ clearly
    p["out_w"], q["out_w"] = 20 * p["out_w"], 20 * q["out_w"]
    return p, q


def all_sequences(world):
    return jnp.asarray(list(itertools.product(range(world.vocab_size), repeat=world.length)), jnp.int32)


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_sequence_log_prob_matches_python_loop(tiny_policies):
    params, _ = tiny_policies
    tokens = jax.random.randint(jax.random.PRNGKey(3), (5, TINY.length), 0, TINY.vocab_size)
    fast = np.asarray(pol.sequence_log_prob(params, tokens, pol.prefixes(TINY.bos, 5)))
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    sig = lambda x: 1 / (1 + np.exp(-x))
    for b in range(5):
        state, total, prev = np.zeros(p["wh"].shape[0]), 0.0, TINY.bos
        for t in range(TINY.length):
            gx = p["embed"][prev] @ p["wx"] + p["bx"]
            gh = state @ p["wh"] + p["bh"]
            h = state.size
            r = sig(gx[:h] + gh[:h])
            z = sig(gx[h:2 * h] + gh[h:2 * h])
            n = np.tanh(gx[2 * h:] + r * gh[2 * h:])
            state = (1 - z) * n + z * state
            probs = _softmax(state @ p["out_w"] + p["out_b"])
            token = int(tokens[b, t])
            total += math.log(probs[token])
            prev = token
        assert fast[b] == pytest.approx(total, abs=1e-4)


def test_policy_is_a_distribution_and_sampling_follows_it(tiny_policies):
    params, _ = tiny_policies
    seqs = all_sequences(TINY)
    probs = np.exp(np.asarray(pol.sequence_log_prob(params, seqs, pol.prefixes(TINY.bos, seqs.shape[0]))))
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    drawn = np.asarray(pol.sample(params, jax.random.PRNGKey(4), pol.prefixes(TINY.bos, 40_000), TINY.length))
    index = (drawn * TINY.vocab_size ** np.arange(TINY.length)[::-1]).sum(1)
    freq = np.bincount(index, minlength=seqs.shape[0]) / drawn.shape[0]
    assert np.abs(freq - probs).max() < 0.01


def test_sequence_kl_estimator_is_unbiased_for_exact_kl(tiny_policies):
    p, q = tiny_policies
    seqs = all_sequences(TINY)
    pre = pol.prefixes(TINY.bos, seqs.shape[0])
    log_p = np.asarray(pol.sequence_log_prob(p, seqs, pre), np.float64)
    log_q = np.asarray(pol.sequence_log_prob(q, seqs, pre), np.float64)
    exact = float((np.exp(log_p) * (log_p - log_q)).sum())
    estimator = np.asarray(pol.sequence_kl(p, q, seqs, pre), np.float64)
    assert exact > 0.1
    assert float((np.exp(log_p) * estimator).sum()) == pytest.approx(exact, rel=1e-3)  # expectation under p
    drawn = pol.sample(p, jax.random.PRNGKey(5), pol.prefixes(TINY.bos, 20_000), TINY.length)
    monte_carlo = float(pol.sequence_kl(p, q, drawn, pol.prefixes(TINY.bos, 20_000)).mean())
    assert monte_carlo == pytest.approx(exact, rel=0.05)


def test_source_is_a_distribution_and_samples_follow_it():
    seqs = all_sequences(TINY)
    probs = np.exp(np.asarray(source_log_prob(TINY, seqs), np.float64))
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    drawn = np.asarray(sample_source(jax.random.PRNGKey(6), TINY, 40_000))
    index = (drawn * TINY.vocab_size ** np.arange(TINY.length)[::-1]).sum(1)
    freq = np.bincount(index, minlength=seqs.shape[0]) / drawn.shape[0]
    assert np.abs(freq - probs).max() < 0.01


def test_gold_reward_matches_python_reference():
    world, gold = World(), Gold()
    tokens = np.array(jax.random.randint(jax.random.PRNGKey(7), (50, world.length), 0, world.vocab_size))
    tokens[0] = 0  # sixteen helpful words: deep in the overshoot region
    fast = np.asarray(gold_reward(world, gold, jnp.asarray(tokens)))
    for row, value in zip(tokens, fast, strict=True):
        helpful = sum(t in world.helpful_tokens for t in row)
        harmful = sum(t in world.harmful_tokens for t in row)
        expected = (min(helpful, gold.helpful_optimum) - gold.overshoot_cost * max(helpful - gold.helpful_optimum, 0) ** 2
                    - gold.harm_cost * harmful + gold.variety_weight * len(set(row.tolist())))
        assert value == pytest.approx(expected, abs=1e-5)


def test_dpo_loss_matches_hand_computation():
    # margin = (-2 - -3) - (-4 - -3.5) = 1 + 0.5 = 1.5; beta 0.5 -> -log sigmoid(0.75)
    loss = dpo_loss(jnp.array([-2.0]), jnp.array([-4.0]), jnp.array([-3.0]), jnp.array([-3.5]), 0.5)
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-0.75)), abs=1e-6)
    # a policy equal to the reference has loss log 2 whatever the data
    same = dpo_loss(jnp.array([-1.0, -7.0]), jnp.array([-2.0, -3.0]), jnp.array([-1.0, -7.0]),
                    jnp.array([-2.0, -3.0]), 3.0)
    assert float(same) == pytest.approx(math.log(2), abs=1e-6)


def test_bradley_terry_loss_and_labels():
    assert float(bradley_terry_loss(jnp.array([2.0, 0.0]), jnp.array([1.0, 0.0]))) == pytest.approx(
        (math.log(1 + math.exp(-1.0)) + math.log(2)) / 2, abs=1e-6)
    a, b = jnp.array([[1, 1], [2, 2]]), jnp.array([[3, 3], [4, 4]])
    chosen, rejected = label_pairs(jax.random.PRNGKey(0), a, b, jnp.array([5.0, 0.0]), jnp.array([1.0, 2.0]), 0.0)
    assert chosen.tolist() == [[1, 1], [4, 4]] and rejected.tolist() == [[3, 3], [2, 2]]
    # a noisy labeller prefers the better sample with probability sigmoid(difference)
    many = jnp.zeros((20_000, 1), jnp.int32)
    chosen, _ = label_pairs(jax.random.PRNGKey(1), many, many + 1, jnp.full(20_000, 1.0), jnp.zeros(20_000), 1.0)
    assert float((chosen == 0).mean()) == pytest.approx(1 / (1 + math.exp(-1)), abs=0.01)


def test_gae_matches_python_loop():
    rewards = np.asarray(jax.random.normal(jax.random.PRNGKey(8), (3, 6)))
    values = np.asarray(jax.random.normal(jax.random.PRNGKey(9), (3, 6)))
    fast = np.asarray(gae(jnp.asarray(rewards), jnp.asarray(values), 0.9))
    for b in range(3):
        running = 0.0
        for t in reversed(range(6)):
            next_value = values[b, t + 1] if t + 1 < 6 else 0.0
            running = rewards[b, t] + next_value - values[b, t] + 0.9 * running
            assert fast[b, t] == pytest.approx(running, abs=1e-5)


def test_best_of_n_kl_formula_matches_exact_and_monte_carlo():
    atoms = 20_000
    uniform = np.full(atoms, 1 / atoms)
    scores = np.random.default_rng(0).permutation(atoms)
    for n in (2, 10, 100, 1000):
        assert best_of_n_exact_kl(uniform, scores, n) == pytest.approx(float(best_of_n_kl(n)), abs=2e-3)
    # Monte-Carlo: best of n draws from a small non-uniform distribution, empirical KL vs the exact one
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(12) * 2)
    scores = rng.permutation(12)
    draws = rng.choice(12, size=(200_000, 4), p=probs)
    best = draws[np.arange(draws.shape[0]), np.argmax(scores[draws], axis=1)]
    freq = np.bincount(best, minlength=12) / best.size
    mask = freq > 0
    empirical = float((freq[mask] * np.log(freq[mask] / probs[mask])).sum())
    assert empirical == pytest.approx(best_of_n_exact_kl(probs, scores, 4), abs=0.01)
    # the closed form is the continuous limit and an upper bound for a finite distribution
    assert best_of_n_exact_kl(probs, scores, 4) <= float(best_of_n_kl(4)) + 1e-9


def test_best_of_n_estimator_matches_subset_enumeration():
    rng = np.random.default_rng(2)
    proxy, gold = rng.normal(size=9), rng.normal(size=9)
    result = best_of_n_scores(proxy, gold, [1, 3, 9])
    for n, expected_gold, expected_proxy in zip([1, 3, 9], result["gold"], result["proxy"], strict=True):
        subsets = list(itertools.combinations(range(9), n))
        best = [max(s, key=lambda i: proxy[i]) for s in subsets]
        assert expected_gold == pytest.approx(np.mean(gold[best]), abs=1e-9)
        assert expected_proxy == pytest.approx(np.mean(proxy[best]), abs=1e-9)


@pytest.mark.parametrize("form, alpha, beta", [("bon", 1.7, 0.5), ("rl", 0.9, 0.6)])
def test_fits_recover_planted_parameters(form, alpha, beta):
    d = np.linspace(0.05, 3.0, 30)
    noise = np.random.default_rng(3).normal(0, 0.01, d.size)
    fit = fit_with_holdout(form, d, predict(form, alpha, beta, d) + noise)
    assert fit["alpha"] == pytest.approx(alpha, abs=0.03)
    assert fit["beta"] == pytest.approx(beta, abs=0.03)
    assert fit["r2_heldout"] > 0.99 and fit["heldout_points"] == 15
    grid = np.linspace(0.01, 10, 100_000)
    assert peak_distance(form, alpha, beta) == pytest.approx(grid[np.argmax(predict(form, alpha, beta, grid))],
                                                              abs=1e-3)


def test_adaptive_kl_coefficient_moves_toward_the_target():
    from specgym.seq.ppo_kl import SeqPPOConfig, adapt_beta

    cfg = SeqPPOConfig(kl_target=2.0, kl_horizon=10.0)
    beta = jnp.float32(0.1)
    assert float(adapt_beta(beta, jnp.float32(2.2), cfg)) == pytest.approx(0.1 * (1 + 0.1 / 10))
    assert float(adapt_beta(beta, jnp.float32(50.0), cfg)) == pytest.approx(0.1 * 1.02)  # clipped at +20%
    assert float(adapt_beta(beta, jnp.float32(0.0), cfg)) == pytest.approx(0.1 * 0.98)
    assert float(adapt_beta(beta, jnp.float32(50.0), SeqPPOConfig(kl_target=0.0))) == pytest.approx(0.1)  # fixed
