"""Exact dynamic programming on a :class:`~specgym.envs.tabular.TabularMDP`.

Scores in specgym are normalised so that 0 is the uniform-random policy and 1
the optimal policy *for that reward* over the env's time limit. Both ends come
from here: backward induction over the finite horizon (the optimum of an
undiscounted T-step episode is non-stationary in general, so a discounted
fixed point would not be the right reference).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from specgym.envs.tabular import TabularMDP


class Solution(NamedTuple):
    values: jax.Array  # (L, S) value at the episode's first step
    q_values: jax.Array  # (L, S, A) action values at the episode's first step
    expected_return: jax.Array  # scalar: value of the start states, weighted by level


def backup(next_state, terminated, expectation, reward, values, discount):
    """One Bellman backup: Q(s, a) = E_chance[ r + discount * (1 - done) * V(next) ]."""
    levels = jnp.arange(values.shape[0])[:, None, None]
    continuation = jnp.where(terminated, 0.0, values[levels, next_state])
    after_chance = reward + discount * continuation  # (L, S, A), indexed by the post-chance state
    return jax.vmap(expectation, in_axes=2, out_axes=2)(after_chance)


@functools.partial(jax.jit, static_argnames=("expect", "mode", "horizon", "discount"))
def _solve(next_state, terminated, initial, level_weights, reward, expect, expect_params, mode, horizon, discount):
    def expectation(values):
        return expect(values) if expect_params is None else expect(values, expect_params)

    def reduce(q):
        return q.max(axis=2) if mode == "optimal" else q.mean(axis=2)

    def step(values, _):
        return reduce(backup(next_state, terminated, expectation, reward, values, discount)), None

    levels, states, _ = next_state.shape
    values = jnp.zeros((levels, states), jnp.float32)
    values, _ = jax.lax.scan(step, values, None, length=horizon - 1)
    q = backup(next_state, terminated, expectation, reward, values, discount)
    first = reduce(q)
    start = first[jnp.arange(levels), initial]
    return first, q, jnp.sum(level_weights * start)


def solve(mdp: TabularMDP, reward: jax.Array, mode: str = "optimal", horizon: int | None = None,
          discount: float = 1.0) -> Solution:
    """Values of the optimal (``mode="optimal"``) or uniform-random (``"random"``) policy.

    ``reward`` is an (L, S, A) table from ``mdp.rewards(fn)``; ``horizon``
    defaults to the env's time limit.
    """
    if mode not in ("optimal", "random"):
        raise ValueError(f"mode must be 'optimal' or 'random', not {mode!r}")
    horizon = mdp.horizon if horizon is None else horizon
    out = _solve(mdp.next_state, mdp.terminated, mdp.initial, mdp.level_weights, jnp.asarray(reward, jnp.float32),
                 mdp.expect, mdp.expect_params, mode, int(horizon), float(discount))
    return Solution(*out)


def reference_returns(mdp: TabularMDP, reward: jax.Array) -> tuple[float, float]:
    """(random, optimal) expected episode return: the 0 and 1 of a normalised score."""
    low = solve(mdp, reward, "random").expected_return
    high = solve(mdp, reward, "optimal").expected_return
    return float(low), float(high)
