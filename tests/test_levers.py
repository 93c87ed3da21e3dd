"""Shapley attribution and interactions against brute-force references on known games."""

import itertools
import math

import numpy as np
import pytest

from specgym.diagnose.levers import attribute, coalitions, harsanyi_dividends, shapley_values

PLAYERS = ("reward", "environment", "algorithm")


def permutation_shapley(value, players):
    """The definition: average marginal contribution over every order of joining."""
    out = {p: 0.0 for p in players}
    orders = list(itertools.permutations(players))
    for order in orders:
        joined = frozenset()
        for p in order:
            out[p] += (value[joined | {p}] - value[joined]) / len(orders)
            joined = joined | {p}
    return out


def random_game(seed, players=PLAYERS):
    rng = np.random.default_rng(seed)
    return {c: float(rng.normal()) for c in coalitions(players)}


@pytest.mark.parametrize("seed", range(5))
def test_shapley_matches_the_permutation_average(seed):
    game = random_game(seed)
    fast = shapley_values(game, PLAYERS)
    slow = permutation_shapley(game, PLAYERS)
    for p in PLAYERS:
        assert fast[p] == pytest.approx(slow[p], abs=1e-12)
    assert sum(fast.values()) == pytest.approx(game[frozenset(PLAYERS)] - game[frozenset()])  # efficiency


def test_four_player_game_and_symmetry():
    players = ("a", "b", "c", "d")
    game = {c: float(len(c) ** 2) for c in coalitions(players)}  # symmetric: equal shares
    phi = shapley_values(game, players)
    assert all(v == pytest.approx(16 / 4) for v in phi.values())
    assert phi == pytest.approx(permutation_shapley(game, players))


def test_dividends_rebuild_every_coalition_value():
    game = random_game(7)
    dividends = harsanyi_dividends(game, PLAYERS)
    for s in coalitions(PLAYERS):
        rebuilt = sum(d for t, d in dividends.items() if t <= s)
        assert rebuilt == pytest.approx(game[s], abs=1e-12)
    # Shapley splits each dividend equally among its members
    for p in PLAYERS:
        assert sum(d / len(t) for t, d in dividends.items() if p in t) == pytest.approx(
            shapley_values(game, PLAYERS)[p])


def test_pure_complements_show_as_interaction_not_single_credit():
    # only reward AND environment together help (glitch-walker-like second cause)
    game = {c: (1.0 if {"reward", "environment"} <= c else 0.0) for c in coalitions(PLAYERS)}
    phi = shapley_values(game, PLAYERS)
    assert phi["reward"] == pytest.approx(0.5) and phi["environment"] == pytest.approx(0.5)
    assert phi["algorithm"] == 0.0
    assert harsanyi_dividends(game, PLAYERS)[frozenset({"reward", "environment"})] == pytest.approx(1.0)


def test_attribute_per_seed_ci_noop_and_verdict():
    rng = np.random.default_rng(0)
    seeds = 8
    noise = rng.normal(0, 0.02, seeds)
    per_seed = {}
    for c in coalitions(PLAYERS):
        v = 0.1 + noise
        v = v + (0.6 if "environment" in c else 0.0) + (0.2 if "reward" in c else 0.0)
        per_seed[c] = v + rng.normal(0, 0.01, seeds)
    result = attribute(per_seed, {"reward": "r-fix", "environment": "e-fix", "algorithm": None})
    env = result["levers"]["environment"]
    assert env["shapley"] == pytest.approx(0.6, abs=0.03)
    assert env["ci95"][0] <= env["shapley"] <= env["ci95"][1]
    assert result["levers"]["algorithm"]["noop"] and "no documented fix" in result["verdict"]
    assert result["levers"]["algorithm"]["fix"] == {
        "applies": False, "why": "no documented fix on the algorithm lever: fixing it changes nothing, so its "
                                 "Shapley value is 0 by construction"}
    assert result["levers"]["environment"]["fix"] == "e-fix"
    assert result["credited"] == ["environment", "reward"]
    assert "root causes: the training environment (fix 'e-fix') and the specified reward" in result["verdict"]
    # the per-seed Shapley values average to the reported value, and add up to the total per seed
    per_lever = np.array([result["levers"][p]["per_seed"] for p in PLAYERS])
    assert np.allclose(per_lever.sum(0), result["total"]["per_seed"])
    assert math.isclose(np.mean(env["per_seed"]), env["shapley"])


def test_no_credit_when_nothing_helps():
    per_seed = {c: np.full(4, 0.3) for c in coalitions(PLAYERS)}
    result = attribute(per_seed, {"reward": "a", "environment": "b", "algorithm": "c"})
    assert result["credited"] == []
    assert "no lever's fix reliably closes the gap" in result["verdict"]
