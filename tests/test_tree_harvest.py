"""tree-harvest: scripted clear-cut with hand-computed rewards, the exact regrowth expectation, the
exact horizon effect, and (slow) the short-horizon clear-cut fixed by a long horizon."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scripted
import specgym
from specgym.envs import tree_harvest as th
from specgym.envs.tabular import to_tabular
from specgym.rl.value_iteration import backup, reference_returns
from specgym.run import run_scenario

MOVES = {"u": 0, "r": 1, "d": 2, "l": 3}


def play(env, params, route):
    return scripted.play(env, params, [MOVES[a] for a in route])[0]


def test_clear_cut_without_regrowth():
    env, params = specgym.make("tree-harvest", "train")
    params = dataclasses.replace(params, regrowth=jnp.zeros_like(params.regrowth))
    # up into the grove (first chop at step 5), then every other site; step 13 revisits a stump
    route = "uuuuuullldrrrru"
    out = play(env, params, route + "d" * (100 - len(route)))
    assert out["chops"] == out["specified"] == 10.0 and out["clear_cuts"] == 1.0
    standing = [10, 10, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2, 1, 0]
    assert out["tree_steps"] == sum(standing)
    assert out["intended"] == pytest.approx(10 + 0.02 * sum(standing))


def test_regrowth_rates_span_the_papers_range():
    rates = th.regrowth_rates()
    assert rates[0] == pytest.approx(1e-6) and rates[th.NUM_TREES - 1] == pytest.approx(0.3)
    assert np.all(np.diff(rates) > 0) and rates[1] < 1e-3


def test_no_regrowth_under_the_woodcutter():
    env, params = specgym.make("tree-harvest", "train")
    params = dataclasses.replace(params, regrowth=jnp.ones_like(params.regrowth))
    state = th.TreeHarvestState(jnp.array([1, 1]), jnp.zeros(th.NUM_TREES, bool), jnp.asarray(0))
    after = env.chance(jax.random.PRNGKey(0), state, params)
    site = int(params.tree_id[0][1, 1])  # the woodcutter stands on the top-left site
    assert not bool(after.trees[site]) and int(jnp.sum(after.trees)) == th.NUM_TREES - 1


def test_regrowth_expectation_matches_enumeration():
    env, params = specgym.make("tree-harvest", "train")
    rng = np.random.default_rng(0)
    values = jnp.asarray(rng.normal(size=env.num_tabular_states(params)), jnp.float32)
    table = env.chance_expectation(values, 0, params)
    rates, site_cell = np.asarray(params.regrowth), np.asarray(params.site_cell[0])
    for index in rng.integers(0, env.num_tabular_states(params), size=6):
        cell, bits = divmod(int(index), 2**th.NUM_TREES)
        rate = rates[bin(bits).count("1")]
        can_grow = [i for i in range(th.NUM_TREES) if not bits >> i & 1 and site_cell[i] != cell]
        total = 0.0
        for grown in itertools.product((0, 1), repeat=len(can_grow)):
            k = sum(grown)
            prob = rate**k * (1 - rate) ** (len(can_grow) - k)
            after = bits | sum(1 << i for i, g in zip(can_grow, grown, strict=True) if g)
            total += prob * float(values[cell * 2**th.NUM_TREES + after])
        assert float(table[index]) == pytest.approx(total, rel=1e-4, abs=1e-5)


def discounted_policy_outcome(mdp, reward, gamma, iterations=300):
    """Trees left on average by the stationary optimum of the ``gamma``-discounted problem."""
    values = jnp.zeros(mdp.next_state.shape[:2])
    improve = jax.jit(lambda v: backup(mdp.next_state, mdp.terminated, mdp.expectation, reward, v, gamma).max(2))
    for _ in range(iterations):
        values = improve(values)
    policy = backup(mdp.next_state, mdp.terminated, mdp.expectation, reward, values, gamma).argmax(2)
    return policy


@pytest.mark.slow  # a few hundred exact backups over 50k states: about a minute
def test_exact_short_horizon_clear_cuts_and_long_horizon_sustains():
    """The exact chop-maximisers: at discount 0.9 the forest falls; at 0.99 it stands, and that policy's intended
    score - the ceiling of the long-horizon fix, which still counts chops only - is 0.84 (docs/scenarios/tree-harvest.md)."""
    env, params = specgym.make("tree-harvest", "train")
    mdp = to_tabular(env, params)
    chops = mdp.rewards(env.specified_reward)
    trees = mdp.rewards(specgym.event("tree_steps"))
    intended = mdp.rewards(env.intended_reward)
    low, high = reference_returns(mdp, intended)
    levels = jnp.arange(mdp.next_state.shape[0])[:, None]

    def expected_return(policy, reward):
        step = jnp.take_along_axis(reward, policy[..., None], 2)[..., 0]
        following = jnp.take_along_axis(mdp.next_state, policy[..., None], 2)[..., 0]
        value = jnp.zeros_like(step)
        for _ in range(mdp.horizon):
            value = mdp.expectation(step + value[levels, following])
        return float(value[0, mdp.initial[0]])

    average_forest, intended_score = {}, {}
    for gamma in (0.9, 0.99):
        policy = discounted_policy_outcome(mdp, chops, gamma)
        average_forest[gamma] = expected_return(policy, trees) / mdp.horizon
        intended_score[gamma] = (expected_return(policy, intended) - low) / (high - low)
    assert average_forest[0.9] < 2 and average_forest[0.99] > 5
    assert intended_score[0.9] < 0 and 0.8 < intended_score[0.99] < 0.9


@pytest.mark.slow
def test_short_horizon_clear_cuts_and_long_horizon_fixes_it(tmp_path):
    def train(fixes):
        return run_scenario(specgym.get_scenario("tree-harvest"), {"total_steps": 200_000}, fixes, seeds=4,
                            out_root=tmp_path, eval_episodes=32, progress=False, pictures=False)

    def stat(summary, key):
        return summary["splits"]["train"][key]["iqm"]

    def event(summary, name):
        return summary["splits"]["train"]["events"][name]["per_episode"]["iqm"]

    short = train({})
    assert event(short, "chops") >= 8 and event(short, "tree_steps") < 150
    assert stat(short, "intended_score") < 0
    long = train({"algorithm": "long-horizon"})
    assert event(long, "tree_steps") > 500 and event(long, "chops") > event(short, "chops")
    assert stat(long, "intended_score") > stat(short, "intended_score") + 0.6
