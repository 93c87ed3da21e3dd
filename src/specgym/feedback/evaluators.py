"""Evaluators: who compares two clips, and what they can see while doing it.

Every evaluator answers one question per pair of clips - which is better? -
with 1.0 (left), 0.0 (right), 0.5 (equal) or NaN (can't tell; dropped from
reward-model training). The simulated ones all judge a clip by a *return*
(a masked sum over its steps of something per step) and differ only in

* what they sum: the intended reward (oracle), or a verdict drawn from a
  limited view of the state (a camera picture);
* how reliably they pick the larger sum: exactly, or Boltzmann-rational with
  rationality ``beta`` (P(left) = sigmoid(beta * (R_left - R_right))), plus a
  ``mistake_rate`` of answers replaced by a fair coin (Christiano et al. 2017
  assumed 10%).

Limited views belong to a scenario and are registered in a table
(``register_view``), so a new scenario with a camera adds a row, never a branch.
A person at the web page is one more evaluator (``specgym.feedback.human``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from specgym.learn.preferences import EQUAL, LEFT, RIGHT, ClipPairs, Clips
from specgym.rewards import Reward



class Evaluator(Protocol):
    """Anything that compares clips."""

    name: str

    def compare(self, pairs: ClipPairs, key) -> np.ndarray:
        """One preference per pair: 1.0 left better, 0.0 right better, 0.5 equal,
        NaN can't tell (dropped from reward-model training)."""
        ...


def boltzmann_preferences(left_return, right_return, key, rationality: float = math.inf,
                          mistake_rate: float = 0.0, tie_tolerance: float = 1e-6) -> np.ndarray:
    """Preferences between returns: exact (``rationality`` inf) or Boltzmann, then coin-flip mistakes.

    The exact evaluator calls returns within ``tie_tolerance`` equal (0.5); a
    Boltzmann evaluator always picks a side, with P(left) = sigmoid(beta * diff).
    A mistake replaces the answer by left or right with equal odds, so overall
    P(left) = (1 - mistake_rate) * sigmoid(beta * diff) + mistake_rate / 2.
    """
    diff = np.asarray(left_return, np.float64) - np.asarray(right_return, np.float64)
    k_choice, k_mistake, k_coin = jax.random.split(key, 3)
    if math.isinf(rationality):
        prefs = np.where(diff > tie_tolerance, LEFT, np.where(diff < -tie_tolerance, RIGHT, EQUAL))
    else:
        p_left = 1.0 / (1.0 + np.exp(-rationality * diff))
        draws = np.asarray(jax.random.uniform(k_choice, diff.shape))
        prefs = np.where(draws < p_left, LEFT, RIGHT)
    if mistake_rate > 0:
        mistaken = np.asarray(jax.random.uniform(k_mistake, diff.shape)) < mistake_rate
        coin = np.where(np.asarray(jax.random.uniform(k_coin, diff.shape)) < 0.5, LEFT, RIGHT)
        prefs = np.where(mistaken, coin, prefs)
    return prefs.astype(np.float64)


@dataclasses.dataclass(frozen=True)
class ReturnEvaluator:
    """Judges each clip by the masked sum of ``per_step(clips)`` and compares the sums."""

    name: str
    per_step: Callable[[Clips], np.ndarray]
    """Clips -> (N, T) what the evaluator credits at each step."""
    judged_reward: Reward | None = None
    """The same judgement as a reward function, to score policies as the evaluator would."""
    rationality: float = math.inf
    """Boltzmann beta per unit of return; inf answers exactly."""
    mistake_rate: float = 0.0
    """Fraction of answers replaced by a fair coin."""

    def returns(self, clips: Clips) -> np.ndarray:
        return clips.total(self.per_step(clips))

    def compare(self, pairs: ClipPairs, key) -> np.ndarray:
        return boltzmann_preferences(self.returns(pairs.left), self.returns(pairs.right), key,
                                     self.rationality, self.mistake_rate)


# ----- limited views: what an evaluator sees of a state, per scenario -------------------
@dataclasses.dataclass(frozen=True)
class View:
    """A scenario's limited view: the evaluator credits ``credit(state, params)`` per step."""

    description: str
    credit: Callable[[Any, Any], jax.Array]
    """(inner env state after a step, env params) -> scalar the evaluator credits for that step."""


_VIEWS: dict[tuple[str, str], View] = {}


def register_view(scenario_id: str, name: str, view: View) -> None:
    _VIEWS[(scenario_id, name)] = view


def views_of(scenario_id: str) -> dict[str, View]:
    return {name: v for (sid, name), v in _VIEWS.items() if sid == scenario_id}


def view_evaluator(name: str, view: View, params, **noise) -> ReturnEvaluator:
    """An evaluator crediting what ``view`` shows of each step's state."""
    credit_steps = jax.jit(jax.vmap(jax.vmap(lambda s: view.credit(s, params))))

    def per_step(clips: Clips) -> np.ndarray:
        return np.asarray(credit_steps(clips.states), np.float64)

    judged = Reward(lambda tr, p: jnp.asarray(view.credit(tr.next_state, p), jnp.float32), view.description)
    return ReturnEvaluator(name, per_step, judged, **noise)


def oracle(env, **noise) -> ReturnEvaluator:
    """Compares clips by their intended return (``noise``: rationality, mistake_rate)."""
    return ReturnEvaluator("oracle", lambda clips: np.asarray(clips.intended, np.float64), env.intended_reward, **noise)


def _camera_grasp_views() -> None:
    """camera-grasp's limited evaluators judge pictures: most credit when every picture looks
    grasped, a little for the hand appearing close to the ball (what a person watching would
    reward). The state-aware one gives the same two kinds of credit from the true state."""
    from specgym.envs import camera_grasp as cg

    def closeness(view):
        height, width = view.shape
        rows, cols = jnp.mgrid[0:height, 0:width]
        hand = (view == cg.OPEN_HAND) | (view == cg.CLOSED_HAND)
        ball = view == cg.BALL
        where = lambda m, a: jnp.sum(jnp.where(m, a, 0)) / jnp.maximum(jnp.sum(m), 1)  # noqa: E731
        gap = jnp.abs(where(hand, rows) - where(ball, rows)) + jnp.abs(where(hand, cols) - where(ball, cols))
        seen = jnp.any(hand) & jnp.any(ball)
        return jnp.where(seen, 1.0 - gap / (height + width - 2), 1.0)  # a hidden ball is under the hand

    def pictures(cameras):
        def credit(state, params):
            views = [cg.camera_view(state, params, c) for c in cameras]
            grasped = jnp.all(jnp.stack([cg.picture_looks_grasped(v) for v in views]))
            near = jnp.mean(jnp.stack([closeness(v) for v in views]))
            return grasped.astype(jnp.float32) + APPROACH_CREDIT * near
        return credit

    register_view("camera-grasp", "camera", View(
        "front picture: +1 when it looks grasped, + 0.25 x how close the hand appears to the ball",
        pictures((cg.FRONT,))))
    register_view("camera-grasp", "second-camera", View(
        "both pictures: +1 when both look grasped, + 0.25 x how close the hand appears to the ball in them",
        pictures((cg.FRONT, cg.SIDE))))

    def true_state(state, params):
        """The state-aware judge: the ball really held, and how close the hand really is to it."""
        gap = jnp.sum(jnp.abs(state.hand - state.ball))
        near = 1.0 - gap / (sum(params.size) - 3)
        return state.held.astype(jnp.float32) + APPROACH_CREDIT * near

    register_view("camera-grasp", "state-aware", View(
        "true state: +1 per step the ball is held, + 0.25 x how close the hand is to the ball (3-D)",
        true_state))


APPROACH_CREDIT = 0.25
"""Credit per step for the hand appearing right next to the ball (a grasp-looking picture earns 1)."""

_camera_grasp_views()
