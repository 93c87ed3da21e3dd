"""bfs-maze: random mazes solved by a breadth-first-search expert (Yang et al. 2022; reading 002).

Env card
--------
Story. Procedure cloning asks whether a learner that imitates *how* an expert
decides - here the frontier maps of a breadth-first search spreading out from
the goal - generalises to new mazes better than one that imitates only the
actions. The expert is the exact shortest-path policy; the mazes a learner is
tested on were never seen in training.

Actions. up, right, down, left.
Observation. The maze inside its outer wall as channels (wall, agent, goal),
flattened: a 7 x 7 board by default.
Specified reward = intended objective: +1 for reaching the goal, which ends
the episode. (Imitation learners never read it; it scores them and lets PPO
train on the same levels.)
Levels. A level is a maze layout with its own start and goal, drawn by one
JAX function: a randomised depth-first-search maze on a lattice of rooms with
two more walls between rooms knocked out (so mazes have loops), the goal on a
free cell and the start on a free cell at least four steps from it. PPO trains
on a fresh maze at every reset (the ``procedural`` setting); the train and
deploy evaluation sets are 1,024 mazes each from the same generator with
different seeds (``num_levels``), so a held-out maze matches a training one
only by chance. Time limit 40 steps.
Events. ``goal`` (reached).
Failure. Behavioural cloning fits the training mazes but solves few held-out
mazes: the action alone does not say *why* it was taken.
Fix. algorithm: clone the search procedure (``specgym imitate bfs-maze
--method pc``): the learner predicts the expert's BFS frontier maps, then
reads its action off them, and solves held-out mazes almost as well as the
training ones.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs import grid, maze
from specgym.envs.base import EnvParams, pytree_dataclass
from specgym.envs.grid_env import GridEnv, PositionTabular
from specgym.envs.procedural import draw_level_set, procedural_params
from specgym.envs.registry import register_env
from specgym.rewards import event

MIN_START_DISTANCE = 4
EXTRA_OPENINGS = 2  # walls between rooms knocked out after the depth-first search: a few loops


@pytree_dataclass
class MazeParams(EnvParams):
    walls: jax.Array  # (L, H, W) bool
    goal: jax.Array  # (L, 2) int32
    start: jax.Array  # (L, 2) int32
    max_steps: jax.Array


@pytree_dataclass
class MazeState:
    pos: jax.Array
    arrived: jax.Array  # bool: the goal was reached (the episode ends)
    level: jax.Array


class BfsMaze(PositionTabular, GridEnv[MazeState, MazeParams]):
    name = "bfs-maze"
    num_channels = 3

    def __init__(self, specified_reward=None, intended_reward=None, size: int = 9):
        goal = event("goal")
        super().__init__(specified_reward or goal, intended_reward or goal)
        self.height = self.width = size

    def generate_level(self, key, config) -> dict[str, jax.Array]:
        """One maze (pure JAX, vmappable): a depth-first-search maze with ``EXTRA_OPENINGS`` more walls between
        rooms knocked out, the goal on a free cell, the start on a free cell at least ``MIN_START_DISTANCE`` steps
        from it (one always exists: within three steps of a cell lie at most 25 cells, fewer than a maze's free
        cells). ``config`` holds nothing: both splits come from the one distribution."""
        k_maze, k_open, k_goal, k_start = jax.random.split(key, 4)
        size = self.height
        walls = maze.perfect_maze(k_maze, size)
        rows, cols = jnp.meshgrid(jnp.arange(size), jnp.arange(size), indexing="ij")
        inner = (rows > 0) & (rows < size - 1) & (cols > 0) & (cols < size - 1)
        between_rooms = inner & ((rows + cols) % 2 == 1)
        openings = maze.random_free_cells(k_open, walls & between_rooms, EXTRA_OPENINGS)
        walls = walls.at[openings[:, 0], openings[:, 1]].set(False)
        goal = maze.random_free_cell(k_goal, ~walls)
        start = maze.random_free_cell(k_start, ~walls & ~maze.within_steps(walls, goal, MIN_START_DISTANCE - 1))
        return {"walls": walls, "goal": goal, "start": start}

    def make_params(self, num_levels: int = 1024, seed: int = 0, max_steps: int = 40) -> MazeParams:
        """A fixed, seeded set of ``num_levels`` mazes drawn by :meth:`generate_level`."""
        levels = draw_level_set(self, {}, num_levels, seed)
        return MazeParams(**levels, max_steps=jnp.asarray(max_steps, jnp.int32))

    def start_state(self, level, params):
        return MazeState(params.start[level], jnp.asarray(False), jnp.asarray(level, jnp.int32))

    def dynamics(self, state, action, params):
        pos = grid.move(state.pos, action, params.walls, state.level)
        arrives = jnp.all(pos == params.goal[state.level]) & ~state.arrived
        return MazeState(pos, state.arrived | arrives, state.level), {"goal": arrives.astype(jnp.float32)}

    def is_terminal(self, state, params):
        return state.arrived

    def observe(self, state, params):
        board = self.board
        return board.observation(board.layers({0: params.walls}, state.level), board.cell(state.pos, 1),
                                 board.cell(params.goal[state.level], 2))

    def fresh_state(self, pos, level):
        return MazeState(pos, jnp.asarray(False), level)

    palette = np.array([[235, 235, 225], [50, 60, 80], [80, 190, 90]], np.uint8)  # floor, wall, goal

    def render(self, state, params) -> np.ndarray:
        lv = int(state.level)
        tiles = np.where(np.asarray(params.walls[lv]), 1, 0)
        tiles[tuple(np.asarray(params.goal[lv]))] = 2
        return grid.draw(tiles, self.palette, np.asarray(state.pos), (40, 90, 210))


def make_splits(num_levels: int = 1024, max_steps: int = 40, seed: int = 0, procedural: bool = True):
    """Two sets of maze layouts from the same generator: train (``seed``) and held-out deploy (another seed);
    ``procedural``: training draws a fresh maze at every reset."""
    env = BfsMaze()
    train = env.make_params(num_levels, seed, max_steps)
    splits: dict[str, EnvParams] = {"train": train, "deploy": env.make_params(num_levels, seed + 10_000, max_steps)}
    if procedural:
        splits["train_levels"] = procedural_params({}, train)
    return env, splits


register_env("bfs-maze", make_splits)
