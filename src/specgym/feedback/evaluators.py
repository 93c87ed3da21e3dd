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

Limited views belong to a scenario (``Scenario.views``, name -> :class:`View`),
so a new scenario with a camera declares its own, never a branch here.
A person at the web page is one more evaluator (``specgym.feedback.human``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, Protocol

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
