"""glitch-walker: scripted gaits with hand-computed rewards, the exact design of the two root causes,
and (slow) the failure with each fix helping part of the way and both together all the way."""


import numpy as np
import pytest

import scripted
import specgym
from specgym.envs import glitch_walker as gw
from specgym.envs.tabular import to_tabular
from specgym.references import split_references
from specgym.run import run_scenario

LEFT, RIGHT, DIVE, SLIDE = gw.STEP_LEFT, gw.STEP_RIGHT, gw.DIVE, gw.SLIDE


def play(env, params, actions):
    return scripted.play(env, params, actions)[0]


def test_walking_diving_and_the_glitch():
    env, params = specgym.make("glitch-walker", "train")
    walk = play(env, params, [RIGHT, LEFT] * 15)
    assert walk["distance"] == walk["specified"] == walk["intended"] == walk["gait_steps"] == 30.0
    stumble = play(env, params, [LEFT] * 5)  # the left foot starts in front: no progress
    assert stumble["distance"] == 0.0 and stumble["gait_steps"] == 0.0
    dive = play(env, params, [DIVE, LEFT] * 15)  # dive 3 cells, fall, get up
    assert dive["specified"] == 45.0 and dive["dives"] == 15.0
    assert dive["intended"] == 45.0 - 2 * 15  # half a walk's pace
    # four steps reach the glitched stretch (cells 4..11); slides from 4, 7, 10; cell 13 is plain
    glitch = play(env, params, [RIGHT, LEFT, RIGHT, LEFT, SLIDE, SLIDE, SLIDE, SLIDE])
    assert glitch["glitch_slides"] == 3.0 and glitch["specified"] == 4 + 9
    assert glitch["intended"] == 4.0


def test_patched_bug_and_gait_term():
    env, splits = specgym.envs.make_splits("glitch-walker", glitch_active=False)
    patched = play(env, splits["train"], [RIGHT, LEFT, RIGHT, LEFT, SLIDE, SLIDE])
    assert patched["glitch_slides"] == 0.0 and patched["specified"] == 4.0
    env, params = specgym.make("glitch-walker", "train")
    gait = env.with_rewards(specified=gw.gait_term_reward())
    walk = play(gait, params, [RIGHT, LEFT] * 15)
    assert walk["specified"] == 60.0 and walk["intended"] == 30.0
    mixed = play(gait, params, [RIGHT, LEFT, RIGHT, LEFT, SLIDE, DIVE, LEFT])
    assert mixed["specified"] == 2 * 4 + 3 + 3 + 0 and mixed["intended"] == 4 + 3 - 2


def optimal_policy_intended(env, params) -> float:
    """Intended return of the specified reward's optimal (time-dependent) policy; the world is deterministic."""
    mdp = to_tabular(env, params)
    nxt, term = np.asarray(mdp.next_state), np.asarray(mdp.terminated)
    spec, true = np.asarray(mdp.rewards(env.specified_reward)), np.asarray(mdp.rewards(env.intended_reward))
    levels = np.arange(nxt.shape[0])[:, None, None]
    value = intended = np.zeros(nxt.shape[:2])
    for _ in range(mdp.horizon):
        q = spec + np.where(term, 0.0, value[levels, nxt])
        qi = true + np.where(term, 0.0, intended[levels, nxt])
        best = q.argmax(axis=2)[..., None]
        value, intended = np.take_along_axis(q, best, 2)[..., 0], np.take_along_axis(qi, best, 2)[..., 0]
    return float(intended[np.arange(nxt.shape[0]), np.asarray(mdp.initial)].mean())


def test_exact_optima_need_both_fixes():
    """By design: each fix alone leaves a loophole; only both make the specified optimum the intended one."""
    scores = {}
    for patched in (False, True):
        env, splits = specgym.envs.make_splits("glitch-walker", glitch_active=not patched)
        for gait in (False, True):
            world = env.with_rewards(specified=gw.gait_term_reward()) if gait else env
            low, high = split_references(world, splits["train"])["intended"]
            scores[patched, gait] = (optimal_policy_intended(world, splits["train"]) - low) / (high - low)
    assert scores[False, False] < 0.1
    assert 0.2 < scores[True, False] < 0.6 and 0.2 < scores[False, True] < 0.6
    assert scores[True, True] == pytest.approx(1.0)


def train(tmp_path, fixes):
    return run_scenario(specgym.get_scenario("glitch-walker"), {"total_steps": 100_000}, fixes, seeds=4,
                        out_root=tmp_path, eval_episodes=32, progress=False, pictures=False)


@pytest.mark.slow
def test_each_fix_helps_part_of_the_way_and_both_fix_it(tmp_path):
    runs = {
        "none": train(tmp_path, {}),
        "environment": train(tmp_path, {"environment": "patch-bug"}),
        "reward": train(tmp_path, {"reward": "gait-term"}),
        "both": train(tmp_path, {"environment": "patch-bug", "reward": "gait-term"}),
    }
    score = {k: r["splits"]["train"]["intended_score"]["iqm"] for k, r in runs.items()}
    events = {k: {e: v["per_episode"]["iqm"] for e, v in r["splits"]["train"]["events"].items()} for k, r in runs.items()}
    assert runs["none"]["splits"]["train"]["specified_score"]["iqm"] > 0.8
    assert score["none"] < 0.05 and events["none"]["glitch_slides"] > 10
    # patched, the distance reward still pays the ungainly dive
    assert events["environment"]["glitch_slides"] == 0 and events["environment"]["dives"] > 10
    # with the gait term the walker walks on plain track but still rides the bug
    assert events["reward"]["gait_steps"] > 10 and events["reward"]["glitch_slides"] > 5
    for single in ("environment", "reward"):
        assert score["none"] + 0.15 < score[single] < score["both"] - 0.3
    assert score["both"] > 0.85 and events["both"]["gait_steps"] > 25
