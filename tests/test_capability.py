"""Capability beside the goal: the share of episodes reaching any candidate goal, on policies of known behaviour."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.capability import capability_goals
from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_policy
from specgym.learn.demos import expert_q_values, tabular_act
from specgym.references import split_references
from specgym.report.tables import format_table
from specgym.results import read_run_summary
from specgym.rl.networks import init_actor_critic
from specgym.rollout import mlp_act, per_episode, rollout, step_trace
from specgym.scenarios.base import Goal
from specgym.scenarios.registry import get

EPISODES = 32
SEEDS = 2


@pytest.fixture(scope="module")
def coin_run_deploy():
    scenario = get("coin-run")
    setup = scenario.setup({"num_levels": 16})
    goals = capability_goals(scenario.goals())
    params = setup.deploy_params
    return setup.env, params, goals, split_references(setup.env, params)


def _seeds(policy):
    return jax.tree_util.tree_map(lambda x: jnp.stack([jnp.asarray(x)] * SEEDS), policy)


def test_only_scenarios_with_two_measurable_goals_get_capability():
    assert list(capability_goals(get("coin-run").goals())) == ["coin", "right_end"]
    assert capability_goals(get("bfs-maze").goals()) == {}  # goals only described
    one = {"a": Goal("a", reward=lambda tr, p: 0.0), "b": Goal("b")}
    assert capability_goals(one) == {}  # one measurable goal: capability would repeat its rate


def test_a_right_end_seeker_is_capable_though_it_misses_the_moved_coin(coin_run_deploy):
    env, params, goals, refs = coin_run_deploy
    # exact greedy policy for "go to the right end": what the misgeneralised agent learned
    q = expert_q_values(env, params, goals["right_end"].reward)
    result = evaluate_policy(env, params, per_episode(tabular_act(env)), _seeds((q, params)), jax.random.PRNGKey(0),
                             refs, EPISODES, goals)
    capability = result["capability"]
    assert capability["any_goal"]["per_seed"] == [1.0] * SEEDS
    assert capability["goals"]["right_end"]["per_seed"] == [1.0] * SEEDS
    # the intended goal alone would tell another story: most moved coins are missed
    assert max(capability["goals"]["coin"]["per_seed"]) < 0.5
    assert result["intended_score"]["iqm"] < 0.5
    for name in goals:  # each goal is an event reward with threshold 0: its share is the event's episode rate
        assert capability["goals"][name]["per_seed"] == result["events"][name]["episode_rate"]["per_seed"]


def test_any_goal_is_the_share_of_episodes_with_either_event_in_the_trace(coin_run_deploy):
    env, params, goals, refs = coin_run_deploy
    nets = jax.vmap(lambda k: init_actor_critic(k, env.observation_space(params).shape[0], env.num_actions, (8,)))(
        jax.random.split(jax.random.PRNGKey(1), SEEDS))
    key = jax.random.PRNGKey(2)
    result = evaluate_policy(env, params, mlp_act, nets, key, refs, EPISODES, goals)
    without = evaluate_policy(env, params, mlp_act, nets, key, refs, EPISODES)
    assert {k: v for k, v in result.items() if k != "capability"} == without  # nothing else changes
    horizon = env.horizon(params)
    for seed, k in enumerate(jax.random.split(key, SEEDS)):
        net = jax.tree_util.tree_map(lambda x, s=seed: x[s], nets)
        trace = jax.device_get(rollout(env, params, mlp_act, net, k, EPISODES, horizon, step_trace))
        alive = np.asarray(trace["alive"])
        reached = [(alive * np.asarray(trace["events"][name])).sum(axis=0) > 0 for name in ("coin", "right_end")]
        assert result["capability"]["any_goal"]["per_seed"][seed] == pytest.approx(np.mean(reached[0] | reached[1]))
    # a random policy reaches each goal sometimes: the "any" share is above either goal's alone
    shares = result["capability"]["goals"]
    assert 0 < max(shares["coin"]["iqm"], shares["right_end"]["iqm"]) < result["capability"]["any_goal"]["iqm"] < 1


def _summary_with(capability):
    stat = {"iqm": 0.5, "ci95": [0.4, 0.6], "per_seed": [0.5]}
    split = {k: stat for k in ("specified_return", "intended_return", "specified_score", "intended_score")}
    split |= {"events": {}, "capability": capability}
    return {"scenario": "coin-run", "seeds": 1, "seed": 0, "env_steps": 1, "wall_seconds": 1.0, "compile_seconds": 0.0,
            "interrupted": False, "fixes": {}, "settings": {}, "available_fixes": {}, "specified_reward": "coin",
            "intended_reward": "coin", "events_shown": [], "splits": {"deploy": split}, "run_dir": "runs/x"}


def test_the_table_shows_capability_and_the_reader_checks_it(tmp_path):
    share = {"iqm": 0.97, "ci95": [0.9, 1.0], "per_seed": [0.97]}
    summary = _summary_with({"any_goal": share, "goals": {"coin": {**share, "iqm": 0.12},
                                                          "right_end": share}})
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary))
    table = format_table(read_run_summary(path))
    line = next(row for row in table.splitlines() if "any goal reached" in row)
    assert "0.97" in line and "coin 12%" in line and "right_end 97%" in line
    path.write_text(json.dumps(_summary_with({"any_goal": share, "goals": {"coin": 0.1}})))
    with pytest.raises(ScenarioError, match=r"splits\.deploy\.capability\.goals\.coin must be"):
        read_run_summary(path)
