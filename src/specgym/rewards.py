"""Reward functions: small pure functions of a transition, and ways to combine them.

A reward function takes ``(transition, params)`` and returns a scalar. The
specified reward (what the learner trains on) and the intended reward (what the
designer wanted) are both written this way, so a fix on the *reward* lever is a
new reward function and never an edit to the dynamics.

``Reward`` objects add and scale like numbers and keep a readable name::

    laps = event("laps")
    shaped = laps + potential_shaping(progress, gamma=0.99)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from specgym.envs.base import Transition

Potential = Callable[[Any, Any], Any]  # (env state, params) -> scalar


class Reward:
    """A named reward function ``(transition, params) -> scalar``."""

    def __init__(self, fn: Callable[[Transition, Any], Any], name: str):
        self.fn = fn
        self.name = name

    def __call__(self, transition: Transition, params):
        return jnp.asarray(self.fn(transition, params), jnp.float32)

    def __add__(self, other: Reward) -> Reward:
        return Reward(lambda tr, p: self(tr, p) + other(tr, p), f"{self.name} + {other.name}")

    def __mul__(self, factor: float) -> Reward:
        return Reward(lambda tr, p: factor * self(tr, p), f"{factor:g} * {self.name}")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Reward({self.name})"


def event(name: str, scale: float = 1.0) -> Reward:
    """``scale`` times the value the dynamics recorded for event ``name`` this step."""
    label = name if scale == 1.0 else f"{scale:g} * {name}"
    return Reward(lambda tr, p: scale * jnp.asarray(tr.events[name], jnp.float32), label)


def constant(value: float, name: str | None = None) -> Reward:
    """The same reward every step (a time penalty when negative)."""
    return Reward(lambda tr, p: jnp.asarray(value, jnp.float32), name or f"{value:g} per step")


def potential_shaping(phi: Potential, gamma: float, name: str = "phi") -> Reward:
    """Ng, Harada & Russell (1999): F = gamma * phi(s') - phi(s), with phi = 0 after termination.

    Adding F to any reward leaves the optimal policy of the discounted problem
    unchanged, because along any trajectory the F terms telescope to a quantity
    that depends only on the start state. ``phi`` must read only parts of the
    state that the env's chance step leaves alone.
    """

    def shaping(tr: Transition, params):
        after = jnp.where(tr.terminated, 0.0, phi(tr.next_state, params))
        return gamma * after - phi(tr.state, params)

    return Reward(shaping, f"shaping({name}, gamma={gamma:g})")
