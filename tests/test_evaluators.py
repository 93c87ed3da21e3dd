"""Evaluators: exact and Boltzmann preferences, and a camera that cannot tell hovering from grasping."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs import camera_grasp as cg
from specgym.feedback import evaluators as ev
from specgym.learn import preferences as prefs
from specgym.scenarios import camera_grasp as camera_grasp_scenario

VIEWS = camera_grasp_scenario.SCENARIO.views


def test_exact_evaluator_orders_returns_and_calls_ties_equal():
    labels = ev.boltzmann_preferences(np.array([3.0, 1.0, 2.0]), np.array([1.0, 3.0, 2.0]), jax.random.PRNGKey(0))
    np.testing.assert_array_equal(labels, [1.0, 0.0, 0.5])


@pytest.mark.parametrize("rationality,mistake_rate", [(1.0, 0.0), (0.5, 0.1), (3.0, 0.3)])
def test_noisy_label_rates_match_the_boltzmann_formula(rationality, mistake_rate):
    diffs = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    n = 20_000
    left = np.repeat(diffs, n)
    labels = ev.boltzmann_preferences(left, np.zeros_like(left), jax.random.PRNGKey(1), rationality, mistake_rate)
    assert set(np.unique(labels)) <= {0.0, 1.0}
    rates = labels.reshape(len(diffs), n).mean(1)
    expected = (1 - mistake_rate) / (1 + np.exp(-rationality * diffs)) + mistake_rate / 2
    sigma = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(rates - expected) < 4 * sigma), (rates, expected)


def scripted_clip(env, params, actions) -> prefs.Clips:
    """One clip from level 0 following ``actions`` (a Python loop over env.transition)."""
    state = env.start_state(0, params)
    steps = []
    for a in actions:
        tr = env.transition(jax.random.PRNGKey(0), state, jnp.asarray(a), params)
        steps.append((prefs.step_features(env, params, tr), env.observe(state, params), tr.next_state,
                      env.specified_reward(tr, params), env.intended_reward(tr, params)))
        state = tr.next_state
    feats, obs, states, spec, true = (jax.tree_util.tree_map(lambda *x: jnp.stack(x)[None], *col) for col in zip(*steps, strict=True))
    return prefs.Clips(feats, obs, jnp.asarray(actions)[None], states, spec, true, jnp.ones((1, len(actions))))


@pytest.fixture(scope="module")
def hover_and_grasp():
    env = cg.CameraGrasp()
    params = env.make_params([((2, 0, 3), (2, 2))])
    down, farther, close, open_ = 5, 3, cg.CLOSE, cg.OPEN
    # both clips look grasped to the front camera from step 6 on: one hovers in front, one holds the ball
    hover = scripted_clip(env, params, [down, down, down, open_, open_] + [close] * 7)
    grasp = scripted_clip(env, params, [down, down, down, farther, farther] + [close] * 7)
    pairs = prefs.ClipPairs(prefs.concat([hover, grasp]), prefs.concat([grasp, hover]), ("a", "b"))
    return env, params, hover, grasp, pairs


def test_scripted_clips_hover_and_grasp(hover_and_grasp):
    _, _, hover, grasp, _ = hover_and_grasp
    assert float(hover.specified.sum()) == float(grasp.specified.sum()) == 7.0
    assert float(hover.intended.sum()) == 0.0 and float(grasp.intended.sum()) == 7.0


def test_front_camera_cannot_tell_hovering_from_grasping(hover_and_grasp):
    env, params, hover, grasp, pairs = hover_and_grasp
    camera = ev.view_evaluator("camera", VIEWS["camera"], params)
    np.testing.assert_array_equal(camera.returns(hover), camera.returns(grasp))
    np.testing.assert_array_equal(camera.compare(pairs, jax.random.PRNGKey(0)), [0.5, 0.5])
    # the pictures it judges are literally the same, step by step
    for t in range(5, 12):
        def at(c, t=t):
            return jax.tree_util.tree_map(lambda x: x[0, t], c.states)

        np.testing.assert_array_equal(cg.camera_view(at(hover), params), cg.camera_view(at(grasp), params))


@pytest.mark.parametrize("name", ["second-camera", "state-aware"])
def test_second_camera_and_state_aware_prefer_the_grasp(hover_and_grasp, name):
    env, params, hover, grasp, pairs = hover_and_grasp
    judge = ev.view_evaluator(name, VIEWS[name], params)
    key = jax.random.PRNGKey(0)
    np.testing.assert_array_equal(judge.compare(pairs, key), [0.0, 1.0])
    np.testing.assert_array_equal(ev.oracle(env).compare(pairs, key), [0.0, 1.0])
    # each held step earns the full point on top of the approach credit
    held = np.asarray(grasp.intended[0]) > 0
    assert np.all(judge.per_step(grasp)[0, held] >= 1.0) and np.all(judge.per_step(hover)[0] < 1.0)


def test_state_aware_credit_is_one_held_plus_a_quarter_of_true_closeness():
    """Checked against the formula on every cell of the box, hand open and closed, ball on the table."""
    env = cg.CameraGrasp()
    params = env.make_params([((0, 0, 3), (2, 3))])
    credit = jax.jit(VIEWS["state-aware"].credit)
    ball = np.array([2, 3, 0])
    for x in range(5):
        for y in range(5):
            for z in range(4):
                for closed in (False, True):
                    state = cg.CameraGraspState(jnp.array([x, y, z]), jnp.asarray(closed), jnp.asarray(ball),
                                                jnp.asarray(False), jnp.asarray(0))
                    gap = abs(x - 2) + abs(y - 3) + z
                    assert float(credit(state, params)) == pytest.approx(camera_grasp_scenario.APPROACH_CREDIT * (1 - gap / 11))
    held = cg.CameraGraspState(jnp.array([2, 3, 1]), jnp.asarray(True), jnp.array([2, 3, 1]), jnp.asarray(True),
                               jnp.asarray(0))
    assert float(credit(held, params)) == pytest.approx(1.0 + camera_grasp_scenario.APPROACH_CREDIT)


def test_camera_view_credit_is_its_judged_reward_on_every_step(hover_and_grasp):
    env, params, hover, _, _ = hover_and_grasp
    camera = ev.view_evaluator("camera", VIEWS["camera"], params)
    state = env.start_state(0, params)
    for t, a in enumerate(np.asarray(hover.actions[0])):
        tr = env.transition(jax.random.PRNGKey(0), state, jnp.asarray(a), params)
        assert float(camera.judged_reward(tr, params)) == pytest.approx(float(camera.per_step(hover)[0, t]))
        state = tr.next_state


def test_noisy_oracle_is_the_oracle_with_noise():
    env = cg.CameraGrasp()
    noisy = dataclasses.replace(ev.oracle(env, rationality=2.0, mistake_rate=0.1), name="noisy")
    assert noisy.rationality == 2.0 and noisy.mistake_rate == 0.1 and noisy.judged_reward is env.intended_reward
