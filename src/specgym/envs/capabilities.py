"""What an env (or its state) can do beyond the base contract, as protocols a caller checks with ``isinstance``.

Not every env has an exact tabular model, a position to draw on a heatmap or a
set of sampled outcomes to choose among; code that needs one of these asks
``isinstance(env, Enumerable)`` (and so on) rather than probing attribute names,
so the capability's full set of methods is written down in one place and a
type checker sees what the branch may call.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax


@runtime_checkable
class Enumerable(Protocol):
    """States can be numbered ``0 .. S-1`` within each level: the env has an exact tabular model (``to_tabular``)."""

    def num_levels(self, params) -> int: ...

    def num_tabular_states(self, params) -> int: ...

    def encode(self, state, params) -> jax.Array: ...

    def decode(self, index: jax.Array, level: jax.Array, params) -> Any: ...

    def start_state(self, level: jax.Array, params) -> Any: ...

    def chance_expectation(self, values: jax.Array, level: jax.Array, params) -> jax.Array: ...


@runtime_checkable
class ChoosesAmongSampledOutcomes(Protocol):
    """A one-step choice among outcomes drawn from a generative ``model`` (the Goodhart best-of-n worlds)."""

    model: Any


@runtime_checkable
class Walled(Protocol):
    """Params with a wall grid per level, ``walls`` of shape (levels, height, width)."""

    walls: jax.Array


@runtime_checkable
class OnGrid(Protocol):
    """A state with the agent's grid position ``pos`` = (row, column)."""

    pos: jax.Array


@runtime_checkable
class OnTrack(Protocol):
    """A state with the agent's cell ``x`` on a one-dimensional track."""

    x: jax.Array


@runtime_checkable
class GeneratesLevels(Protocol):
    """Draws one level with a pure JAX function, so training can take a fresh level at every reset
    (``specgym.envs.procedural``): the level's arrays, named as the params fields they replace."""

    def generate_level(self, key: jax.Array, config: Any) -> dict[str, jax.Array]: ...
