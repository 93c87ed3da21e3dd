"""Base class of the tabular grid worlds: level-indexed params, board observations."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from specgym.envs import grid
from specgym.envs.base import ParamsT, StateT
from specgym.envs.spaces import Box
from specgym.envs.tabular import TabularEnv


class GridEnv(TabularEnv[StateT, ParamsT]):
    """A grid world whose states carry ``level`` and whose params carry ``walls`` of shape (L, H, W).

    Subclasses set ``height``, ``width`` and ``num_channels`` (observation layers).
    """

    action_names = grid.ACTION_NAMES
    num_channels: int = 1
    height: int
    width: int

    @functools.cached_property
    def board(self) -> grid.Board:
        """The flat observation's layout, to build observations from (``grid.Board``)."""
        return grid.Board(self.height, self.width, self.num_channels)

    def level_of(self, state: Any) -> jax.Array:
        return state.level

    def num_levels(self, params) -> int:
        return params.walls.shape[0]

    def observation_space(self, params):
        return Box(0.0, 1.0, (grid.observation_size(self.height, self.width, self.num_channels),))

    def board_shape(self, params) -> tuple[int, int, int]:
        """(height, width, channels) of the flat observation, for a convolutional network."""
        return self.height - 2, self.width - 2, self.num_channels


class PositionTabular:
    """Tabular numbering for grid worlds whose episode ends at their one event (coin, cheese, door).

    Every state an action can be taken in is a fresh position, so the position is
    the whole tabular state. Mix in before ``GridEnv`` and write ``fresh_state``.
    """

    height: int
    width: int

    def fresh_state(self, pos, level):
        """The state at ``pos`` in ``level`` before the ending event."""
        raise NotImplementedError

    def num_tabular_states(self, params):
        return self.height * self.width

    def encode(self, state, params):
        return grid.cell_index(state.pos, self.width)

    def decode(self, index, level, params):
        return self.fresh_state(grid.cell_pos(index, self.width), jnp.asarray(level, jnp.int32))
