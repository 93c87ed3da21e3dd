"""Base class of the tabular grid worlds: level-indexed params, board observations."""

from __future__ import annotations

from specgym.envs import grid
from specgym.envs.spaces import Box
from specgym.envs.tabular import TabularEnv


class GridEnv(TabularEnv):
    """A grid world whose states carry ``level`` and whose params carry ``walls`` of shape (L, H, W).

    Subclasses set ``height``, ``width`` and ``num_channels`` (observation layers).
    """

    action_names = grid.ACTION_NAMES
    num_channels: int = 1

    def level_of(self, state):
        return state.level

    def num_levels(self, params) -> int:
        return params.walls.shape[0]

    def observation_space(self, params):
        return Box(0.0, 1.0, (grid.observation_size(self.height, self.width, self.num_channels),))
