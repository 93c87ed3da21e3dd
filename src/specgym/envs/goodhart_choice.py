"""One-shot choice among candidate outcomes: Goodhart's law as pure optimisation.

A level is a set of ``K`` candidate outcomes, each a row of named features
drawn from a generative model (an :class:`OutcomeModel` variant). The agent
sees some of the features, picks one outcome with its single action, and the
episode ends. Every feature of the chosen outcome is recorded as an event, so
the specified reward (a proxy) and the intended reward (the true value) are
ordinary reward functions of those events.

Optimisation pressure is the number of candidates (best-of-``K``) and the
training that teaches the agent to find the proxy's best one. Because rewards
read only events, the same reward functions also score whole arrays of
sampled outcomes at once (:func:`score_outcomes`), which is what the
Goodhart-curve tool (``specgym.goodhart``) uses for best-of-n up to thousands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw

from specgym.envs.base import EnvParams, Transition, pytree_dataclass
from specgym.envs.spaces import Box
from specgym.envs.tabular import TabularEnv

Sampler = Callable[[jax.Array, tuple[int, ...]], dict[str, jax.Array]]
"""(key, shape) -> {feature: array of that shape}: one generative model of outcomes."""


@dataclasses.dataclass(frozen=True)
class OutcomeModel:
    """What an outcome is made of, what the chooser sees, and how outcomes are generated."""

    features: tuple[str, ...]
    """Every feature of an outcome; each becomes an event when that outcome is chosen."""
    observed: dict[str, float]
    """Features the agent sees, each with the scale that brings it to about [0, 1]."""
    variants: dict[str, Sampler]
    """Generative models by name (the Goodhart variants)."""
    flags: tuple[str, ...] = ()
    """0/1 features that mark a telltale outcome (drawn as a ring in pictures)."""

    def sample(self, variant: str, key: jax.Array, shape: tuple[int, ...]) -> dict[str, jax.Array]:
        if variant not in self.variants:
            raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(self.variants)}")
        drawn = self.variants[variant](key, shape)
        return {name: jnp.asarray(drawn[name], jnp.float32) for name in self.features}


def score_outcomes(reward, outcomes: dict[str, jax.Array], params=None) -> jax.Array:
    """A reward function applied to arrays of outcomes as if each had been chosen."""
    return reward(Transition(None, None, None, outcomes, jnp.asarray(True)), params)


@pytree_dataclass
class ChoiceParams(EnvParams):
    outcomes: jax.Array  # (L, K, F) float32: feature values of every candidate, in model order
    max_steps: jax.Array  # int32: 1, the choice is the whole episode


@pytree_dataclass
class ChoiceState:
    chosen: jax.Array  # int32: index of the chosen outcome, -1 before the choice
    level: jax.Array


class OutcomeChoice(TabularEnv[ChoiceState, ChoiceParams]):
    """Pick one of ``num_candidates`` outcomes; the episode ends with the choice."""

    def __init__(self, model: OutcomeModel, name: str, num_candidates: int, specified_reward, intended_reward):
        super().__init__(specified_reward, intended_reward)
        self.model, self.name = model, name
        self.num_actions = num_candidates
        self.action_names = tuple(f"outcome {i}" for i in range(num_candidates))
        self._observed = np.array([model.features.index(f) for f in model.observed], np.int32)
        self._scale = np.array(list(model.observed.values()), np.float32)

    def make_params(self, variant: str, num_levels: int, seed: int) -> ChoiceParams:
        drawn = self.model.sample(variant, jax.random.PRNGKey(seed), (num_levels, self.num_actions))
        outcomes = jnp.stack([drawn[f] for f in self.model.features], axis=-1)
        return ChoiceParams(outcomes=outcomes, max_steps=jnp.asarray(1, jnp.int32))

    def candidates(self, level, params) -> dict[str, jax.Array]:
        """The features of a level's candidates, one (K,) array per feature."""
        rows = params.outcomes[level]
        return {f: rows[:, i] for i, f in enumerate(self.model.features)}

    # ----- dynamics -------------------------------------------------------------------
    def level_of(self, state):
        return state.level

    def num_levels(self, params) -> int:
        return params.outcomes.shape[0]

    def start_state(self, level, params):
        return ChoiceState(jnp.asarray(-1, jnp.int32), jnp.asarray(level, jnp.int32))

    def dynamics(self, state, action, params):
        row = params.outcomes[state.level, action]
        events = {f: row[i] for i, f in enumerate(self.model.features)}
        return ChoiceState(jnp.asarray(action, jnp.int32), state.level), events

    def is_terminal(self, state, params):
        return state.chosen >= 0

    def observe(self, state, params):
        seen = params.outcomes[state.level][:, self._observed] / self._scale
        return jnp.clip(seen, -10.0, 10.0).reshape(-1)

    def observation_space(self, params):
        return Box(-10.0, 10.0, (self.num_actions * len(self._observed),))

    # ----- tabular: "not chosen yet" or "chose i" -------------------------------------
    def num_tabular_states(self, params):
        return self.num_actions + 1

    def encode(self, state, params):
        return state.chosen + 1

    def decode(self, index, level, params):
        return ChoiceState(jnp.asarray(index - 1, jnp.int32), jnp.asarray(level, jnp.int32))

    # ----- pictures -------------------------------------------------------------------
    def render(self, state, params) -> np.ndarray:
        """Candidates as dots: right = higher specified reward, up = higher intended value.

        Grey dots are the options, a ring marks a telltale outcome (``model.flags``)
        and the chosen one is red; the dashed box is the truly best option.
        """
        level = int(state.level)
        outcomes = self.candidates(level, params)
        proxy = np.asarray(score_outcomes(self.specified_reward, outcomes, params))
        true = np.asarray(score_outcomes(self.intended_reward, outcomes, params))
        flagged = np.zeros(len(proxy), bool)
        for f in self.model.flags:
            flagged |= np.asarray(outcomes[f]) > 0.5
        return draw_choice(proxy, true, flagged, int(state.chosen))


def _span(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    pad = 0.1 * (high - low) + 1e-6
    return low - pad, high + pad


def draw_choice(proxy: np.ndarray, true: np.ndarray, flagged: np.ndarray, chosen: int,
                size: tuple[int, int] = (290, 210)) -> np.ndarray:
    """A small scatter plot (PIL) of candidate outcomes in the specified-vs-intended plane."""
    width, height = size
    left, bottom, top, right = 34, height - 22, 24, width - 8
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((left, 2), "red: chosen", fill=(215, 40, 40))
    draw.text((left + 70, 2), "box: truly best", fill=(40, 150, 60))
    draw.text((left + 160, 2), "ring: extreme", fill=(230, 120, 0))
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=(0, 0, 0))
    draw.text((right - 110, bottom + 6), "specified reward ->", fill=(0, 0, 0))
    draw.text((2, top), "in-", fill=(0, 0, 0))
    draw.text((2, top + 11), "ten-", fill=(0, 0, 0))
    draw.text((2, top + 22), "ded", fill=(0, 0, 0))
    (x0, x1), (y0, y1) = _span(proxy), _span(true)
    xs = left + (proxy - x0) / (x1 - x0) * (right - left)
    ys = bottom - (true - y0) / (y1 - y0) * (bottom - top)
    if y0 < 0 < y1:  # the zero line of the intended value
        zero = bottom - (0 - y0) / (y1 - y0) * (bottom - top)
        draw.line([(left, zero), (right, zero)], fill=(200, 200, 200))
    best = int(np.argmax(true))
    draw.rectangle([xs[best] - 8, ys[best] - 8, xs[best] + 8, ys[best] + 8], outline=(40, 150, 60))
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if flagged[i]:
            draw.ellipse([x - 7, y - 7, x + 7, y + 7], outline=(230, 120, 0), width=2)
        colour = (215, 40, 40) if i == chosen else (120, 120, 120)
        r = 5 if i == chosen else 3
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return np.asarray(image, np.uint8)
