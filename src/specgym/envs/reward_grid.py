"""reward-grid: an open 10 x 10 field with a planted reward per cell, for inverse RL (Ziebart et al. 2008; reading 002).

Env card
--------
Story. Inverse reinforcement learning infers the reward a demonstrator is
optimising from its behaviour. Reading 002 warns that the problem is
ill-posed: many rewards explain the same behaviour, including degenerate
ones such as the zero reward, for which every behaviour is optimal. Here the
reward is planted, so what IRL recovers can be compared with the truth.

Actions. up, right, down, left (into a wall: stay).
Observation. The field inside its outer wall as channels (wall, agent), flattened.
Specified reward = intended objective: the planted value of the cell entered
(or stayed in): two gardens worth +1 and +0.6, a swamp of -0.5 between them,
0 elsewhere. No terminal state.
Levels. One level per start cell: train starts in the two left-most odd columns,
deploy near the right edge (same field, same reward). Time limit 30 steps.
Events. ``garden`` (steps entering a positive cell), ``swamp`` (steps entering a negative one).
Failure. (of IRL, not of an agent) The zero reward and every potential-shaped
variant of the planted one explain the demonstrations as well as, or - for
the zero reward under the plain optimality test - exactly as well as the truth.
Fix. Compare rewards by EPIC distance (shaping-invariant) and by expected
value difference, not by their tables; see docs/imitation/maxent-irl.md.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs import grid
from specgym.envs.base import EnvParams, pytree_dataclass
from specgym.envs.grid_env import GridEnv, PositionTabular
from specgym.envs.registry import register_env
from specgym.rewards import Reward

SIZE = 12  # 10 x 10 inside the outer wall


def planted_values(size: int = SIZE) -> np.ndarray:
    """The planted reward per cell: two gardens and a swamp."""
    values = np.zeros((size, size), np.float32)
    values[2:4, 8:10] = 1.0
    values[8:10, 7:9] = 0.6
    values[5:7, 5:8] = -0.5
    return values


@pytree_dataclass
class GridParams(EnvParams):
    walls: jax.Array  # (L, H, W) bool
    values: jax.Array  # (H, W) float32: the planted reward of entering each cell
    start: jax.Array  # (L, 2) int32
    max_steps: jax.Array


@pytree_dataclass
class GridState:
    pos: jax.Array
    level: jax.Array


def cell_value() -> Reward:
    """The planted value of the cell the step ends in."""
    return Reward(lambda tr, p: p.values[tr.next_state.pos[0], tr.next_state.pos[1]], "planted cell value")


class RewardGrid(PositionTabular, GridEnv[GridState, GridParams]):
    name = "reward-grid"
    num_channels = 2

    def __init__(self, specified_reward=None, intended_reward=None, size: int = SIZE):
        super().__init__(specified_reward or cell_value(), intended_reward or cell_value())
        self.height = self.width = size

    def make_params(self, starts, max_steps: int = 30) -> GridParams:
        walls = np.ones((self.height, self.width), bool)
        walls[1:-1, 1:-1] = False
        starts = np.asarray(starts, np.int32)
        return GridParams(walls=jnp.asarray(np.repeat(walls[None], len(starts), 0)),
                          values=jnp.asarray(planted_values(self.height)), start=jnp.asarray(starts),
                          max_steps=jnp.asarray(max_steps, jnp.int32))

    def start_state(self, level, params):
        return GridState(params.start[level], jnp.asarray(level, jnp.int32))

    def dynamics(self, state, action, params):
        pos = grid.move(state.pos, action, params.walls, state.level)
        value = params.values[pos[0], pos[1]]
        events = {"garden": (value > 0).astype(jnp.float32), "swamp": (value < 0).astype(jnp.float32)}
        return GridState(pos, state.level), events

    def observe(self, state, params):
        board = self.board
        return board.observation(board.layers({0: params.walls}, state.level), board.cell(state.pos, 1))

    def fresh_state(self, pos, level):
        return GridState(pos, level)

    def render(self, state, params) -> np.ndarray:
        values = np.asarray(params.values)
        tiles = np.where(values > 0, 2, np.where(values < 0, 3, 0))
        tiles[np.asarray(params.walls[int(state.level)])] = 1
        palette = np.array([[235, 235, 225], [50, 60, 80], [90, 200, 100], [140, 110, 70]], np.uint8)
        return grid.draw(tiles, palette, np.asarray(state.pos), (40, 90, 210))


def make_splits(max_steps: int = 30):
    """Starts near the left edge (train) or the right edge (deploy): ten cells each, so one compiled step serves both."""
    env = RewardGrid()
    rows = range(1, SIZE - 1, 2)
    left = [(r, c) for r in rows for c in (1, 3)]
    right = [(r, c) for r in rows for c in (SIZE - 4, SIZE - 2)]
    return env, {"train": env.make_params(left, max_steps), "deploy": env.make_params(right, max_steps)}


register_env("reward-grid", make_splits)
