"""Demonstrations, the policy evaluator, and the imitation results the scenarios document."""

import jax
import numpy as np
import pytest

from maze_reference import bfs_distances
from specgym.envs.registry import make_splits
from specgym.errors import ScenarioError
from specgym.evaluation import evaluate_policy, evaluate_split
from specgym.learn.demos import Demos, expert_demos
from specgym.references import split_references
from specgym.rl.networks import init_actor_critic
from specgym.rollout import mlp_act, per_episode


@pytest.fixture(scope="module")
def maze():
    env, splits = make_splits("bfs-maze", num_levels=8)
    return env, splits["train"]


def test_demos_round_trip_and_reject_other_files(maze, tmp_path):
    env, params = maze
    demos = expert_demos(env, params, jax.random.PRNGKey(0), 6)
    # the exact expert reaches every goal: each episode's last action enters the goal cell
    assert len(demos) == int(np.sum(np.bincount(demos.episodes)))
    assert demos.meta["episodes"] == 6 and set(np.unique(demos.episodes)) == set(range(6))
    path = demos.save(tmp_path / "d.npz")
    back = Demos.load(path)
    np.testing.assert_array_equal(back.obs, demos.obs)
    np.testing.assert_array_equal(back.actions, demos.actions)
    assert back.meta["format"] == "specgym-demos"
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ScenarioError, match="not a specgym demonstrations file"):
        Demos.load(tmp_path / "bad.npz")
    with pytest.raises(ScenarioError, match="no demonstrations file"):
        Demos.load(tmp_path / "missing.npz")


def test_expert_demos_are_shortest_paths(maze):
    env, params = maze
    demos = expert_demos(env, params, jax.random.PRNGKey(1), 16)
    for e in range(16):
        level = int(demos.levels[demos.episodes == e][0])
        walls = np.asarray(params.walls[level])
        dist = bfs_distances(~walls, tuple(np.asarray(params.goal[level])))
        assert np.sum(demos.episodes == e) == dist[tuple(np.asarray(params.start[level]))]


def test_evaluate_policy_agrees_with_evaluate_split_on_mlp_policies(maze):
    env, params = maze
    nets = jax.vmap(lambda k: init_actor_critic(k, env.observation_space(params).shape[0], 4, (16,)))(
        jax.random.split(jax.random.PRNGKey(2), 3))
    # near-deterministic policies: the two evaluators draw actions with different keys, so only then
    # must they agree number for number (resets and the env's own randomness use the same keys); the scale
    # separates the top two logits by 30 or more in every state of these mazes (1e4 left some within 0.1)
    nets["actor"][-1]["w"] = nets["actor"][-1]["w"] * 1e8
    refs = split_references(env, params)
    ours = evaluate_policy(env, params, per_episode(mlp_act), nets, jax.random.PRNGKey(3), refs, 16)
    theirs = evaluate_split(env, params, nets, jax.random.PRNGKey(3), refs, 16)
    assert ours["intended_return"]["per_seed"] == pytest.approx(theirs["intended_return"]["per_seed"])
    assert ours["events"]["goal"]["episode_rate"]["per_seed"] == pytest.approx(
        theirs["events"]["goal"]["episode_rate"]["per_seed"])


def test_imitate_errors_are_one_line(tmp_path):
    from specgym.cli import main

    assert main(["imitate", "key-door", "--method", "pc", "--seeds", "1", "--out", str(tmp_path)]) == 2
    assert main(["imitate", "key-door", "--method", "irl", "--seeds", "1", "--out", str(tmp_path)]) == 2
    assert main(["imitate", "bfs-maze", "--demos", str(tmp_path / "none.npz"), "--out", str(tmp_path)]) == 2


@pytest.mark.slow
def test_procedure_cloning_beats_bc_on_held_out_mazes(tmp_path):
    from specgym.runners.imitate import run_imitation
    from specgym.scenarios import get

    summary = run_imitation(get("bfs-maze"), "pc", seeds=3, out_root=tmp_path, eval_episodes=32, progress=False,
                            pictures=False)
    pc = summary["splits"]["deploy"]["events"]["goal"]["episode_rate"]["per_seed"]
    bc = summary["method_metrics"]["bc_same_demos"]["deploy"]["event_rates"]["goal"]["per_seed"]
    assert min(pc) > 0.9
    assert max(bc) < min(pc) - 0.3


@pytest.mark.slow
def test_hidden_hazards_clone_walks_into_moved_hazards(tmp_path):
    from specgym.runners.imitate import run_imitation
    from specgym.scenarios import get

    summary = run_imitation(get("hidden-hazards"), "bc", seeds=3, out_root=tmp_path, eval_episodes=32,
                            progress=False, pictures=False, demo_episodes=32)
    train, deploy = summary["splits"]["train"], summary["splits"]["deploy"]
    assert train["intended_score"]["iqm"] > 0.8
    assert deploy["events"]["hazard"]["episode_rate"]["iqm"] > 0.8


@pytest.mark.slow
def test_unused_shortcut_clone_takes_the_detour_and_rl_finds_the_opening(tmp_path):
    from specgym.envs.hidden_hazards import SHORTCUT_ROOM, expert_view, parse_levels, path_lengths
    from specgym.learn.bc import BCConfig, clone
    from specgym.run import run_scenario
    from specgym.scenarios import get

    levels = parse_levels([SHORTCUT_ROOM])
    goal = tuple(levels["goal"][0])
    mean_path = lambda walls: np.mean([bfs_distances(~walls, goal)[tuple(s)] for s in levels["start"]])
    shortest, detour = mean_path(levels["walls"][0]), mean_path(levels["believed_walls"][0])
    assert detour > shortest + 3  # the opening would save more than three steps
    # what `specgym imitate unused-shortcut --method bc` does, without its extra diagnostics
    env, splits = make_splits("unused-shortcut")
    params = splits["train"]
    demos = expert_demos(env, params, jax.random.PRNGKey(0), 64, expert_view(params))
    nets, _ = clone(BCConfig(), demos, env.num_actions, jax.random.PRNGKey(1), 4)
    cloned = evaluate_policy(env, params, per_episode(mlp_act), nets, jax.random.PRNGKey(2), split_references(env, params), 32)
    # PPO reaches the shortest paths after ~40k steps of the scenario's 200k
    rl = run_scenario(get("unused-shortcut"), {"total_steps": 100_000}, {}, seeds=4, out_root=tmp_path,
                      eval_episodes=32, progress=False, pictures=False)
    clone_steps, rl_steps = path_lengths(cloned), path_lengths(rl["splits"]["train"])
    assert min(cloned["events"]["goal"]["episode_rate"]["per_seed"]) == 1.0
    # 32 episodes from 14 starts: a mean path length is known to about +-0.4 steps
    assert np.all(clone_steps > detour - 1.0)  # every clone walks the expert's detour ...
    assert np.all(rl_steps < shortest + 1.0)  # ... every PPO agent goes through the opening


@pytest.mark.slow
def test_windy_ledge_bc_errors_compound_and_dagger_errors_do_not():
    from specgym.learn import compounding, dagger
    from specgym.learn.demos import expert_q_values

    env, splits = make_splits("windy-ledge")
    params = splits["train"]
    q = expert_q_values(env, params)
    runs = {name: dagger.dagger(env, params, jax.random.PRNGKey(7), 4,
                                dagger.DAggerConfig(label_budget=40, learner_acts=name == "dagger"))
            for name in ("dagger", "bc")}
    demos = runs["bc"][1]
    shown = np.stack([compounding.shown_states(*q.shape[:2], demos.levels[s], demos.cells[s]) for s in range(4)])
    refs = split_references(env, params)
    iqm, goal = {}, {}
    for name, (nets, _) in runs.items():
        prof = compounding.profile(env, params, mlp_act, nets, jax.random.PRNGKey(8), q, shown)
        iqm[name] = {k: {b: v["iqm"] for b, v in table.items() if v["seeds"] >= 3}
                     for k, table in compounding.summarize_profile(prof).items()}
        events = evaluate_policy(env, params, per_episode(mlp_act), nets, jax.random.PRNGKey(9), refs, 64)["events"]
        goal[name] = events["goal"]["episode_rate"]["iqm"]
    bc_d, dg_d = iqm["bc"]["mistakes_by_distance"], iqm["dagger"]["mistakes_by_distance"]
    bc_t, dg_t = iqm["bc"]["mistakes_by_time"], iqm["dagger"]["mistakes_by_time"]
    # the clone errs where it was not shown, and more so the further it strays and the longer it walks
    assert bc_d["0"] < 0.05 and bc_d["1"] > bc_d["0"] + 0.2 and bc_d["2"] > bc_d["1"] + 0.2
    assert bc_t["t15-19"] > bc_t["t0-4"] + 0.4
    # DAgger, labelled on its own states: lower off the demonstrations, flat in time
    assert all(dg_d[b] < bc_d[b] - 0.2 for b in ("2", "3+") if b in dg_d and b in bc_d)
    assert max(dg_t.values()) - min(dg_t.values()) < 0.2 and max(dg_t.values()) < 0.35
    assert iqm["dagger"]["share_by_distance"]["0"] > iqm["bc"]["share_by_distance"]["0"]
    assert goal["dagger"] > goal["bc"] + 0.05  # the clone's extra failures: hazards, and time-outs where it is stuck
