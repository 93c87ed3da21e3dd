"""lego-stack: scripted flip and stack with hand-computed returns, and the failure and fix under PPO."""

import pytest

import scripted
import specgym
from specgym.envs import lego_stack
from specgym.envs.tabular import to_tabular
from specgym.rl.value_iteration import solve
from specgym.run import run_scenario
from specgym.scenarios.lego_stack import red_on_blue

ACTIONS = {"u": 0, "r": 1, "d": 2, "l": 3, "g": lego_stack.GRIP, "n": lego_stack.NUDGE}


def red_left_of_blue():
    """Red on column 0, blue on column 2, gripper top middle; 30-step episodes."""
    env = lego_stack.LegoStack()
    return env, env.make_params([(0, 2)])


def play(env, params, actions, extra=None):
    return scripted.play_transitions(env, params, [ACTIONS[a] for a in actions], extra)


def test_flipping_pays_the_specified_reward_and_nothing_intended():
    env, params = red_left_of_blue()
    # left 2, down 1 (now above the red block), nudge it over, back off up, then idle against the ceiling
    out, state = play(env, params, "lldnu" + "u" * 25)
    assert bool(state.flipped) and int(state.red[1]) == 0
    assert out["flips"] == 1 and out["flipped_on_table"] == 27  # from the nudge (step 4) to step 30
    assert out["specified"] == 26.0  # steps 5..30: bottom face one block up, gripper not touching
    assert out["intended"] == 0.0 and out["stacked"] == 0.0


def test_stacking_pays_both_rewards():
    env, params = red_left_of_blue()
    # over the block, grip, lift, carry 2 right, release onto blue, step aside, idle
    out, state = play(env, params, "lld" + "g" + "u" + "rr" + "g" + "r" + "u" * 21, red_on_blue())
    assert int(state.red[0]) == 2 and int(state.red[1]) == 1 and not bool(state.flipped)
    assert out["grips"] == 1 and out["flips"] == 0
    assert out["intended"] == 23.0 and out["stacked"] == 23.0  # steps 8..30
    assert out["specified"] == 22.0  # at step 8 the gripper still touches the block
    assert out["extra"] == 23.0  # the fix's state reward pays exactly what is intended


def test_blocks_and_table_edges_stop_the_gripper():
    env, params = red_left_of_blue()
    _, state = play(env, params, "dd")  # column 2 holds blue at height 0: the gripper stops at height 1
    assert state.gripper.tolist() == [2, 1]
    _, state = play(env, params, "lllll")
    assert state.gripper.tolist() == [0, 2]
    _, state = play(env, params, "lld" + "g" + "rr")  # a held block cannot be pushed through blue
    assert state.red.tolist() == [1, 0] and bool(state.holding)


def test_flipping_is_the_optimum_of_the_specified_reward_and_far_cheaper():
    env, splits = specgym.envs.make_splits("lego-stack")
    mdp = to_tabular(env, splits["train"])
    spec = float(solve(mdp, mdp.rewards(env.specified_reward)).expected_return)
    stack = float(solve(mdp, mdp.rewards(red_on_blue())).expected_return)
    random_stack = float(solve(mdp, mdp.rewards(red_on_blue()), "random").expected_return)
    assert spec > stack + 2  # flipping starts paying several steps sooner than a stack does
    assert random_stack < 0.05  # random play almost never stacks


def train(tmp_path, fixes=None, total_steps=100_000):
    return run_scenario(specgym.get_scenario("lego-stack"), {"total_steps": total_steps}, fixes or {}, seeds=4,
                        eval_episodes=32, progress=False, pictures=False, out_root=tmp_path)


@pytest.mark.slow
def test_agent_flips_and_red_on_blue_reward_makes_it_stack(tmp_path):
    gamed = train(tmp_path)
    split = gamed["splits"]["train"]
    assert split["specified_score"]["iqm"] >= 0.8 and split["intended_score"]["iqm"] <= 0.1
    assert split["events"]["flips"]["episode_rate"]["iqm"] >= 0.8
    fixed = train(tmp_path, {"reward": "red-on-blue"}, total_steps=400_000)
    split = fixed["splits"]["train"]
    assert split["intended_score"]["iqm"] >= 0.7
    assert split["events"]["stacked"]["per_episode"]["iqm"] > 10
