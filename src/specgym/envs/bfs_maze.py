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
Levels. A level is a maze layout with its own start and goal. Layouts are
randomised depth-first-search mazes on a lattice of rooms with a few extra
openings (so some mazes have loops); start and goal are free cells at least
four steps apart. Train and deploy are disjoint sets of layouts drawn from the
same generator with different seeds (``num_levels`` each). Time limit 40 steps.
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

from specgym.envs import grid
from specgym.envs.base import EnvParams, pytree_dataclass
from specgym.envs.grid_env import GridEnv, PositionTabular
from specgym.envs.registry import register_env
from specgym.rewards import event

MIN_START_DISTANCE = 4


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


def bfs_distances(free: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """Walking distance from ``source`` to every cell (-1 where unreachable)."""
    dist = np.full(free.shape, -1, np.int32)
    dist[source] = 0
    frontier = [source]
    while frontier:
        nxt = []
        for r, c in frontier:
            for dr, dc in grid.MOVES:
                cell = (r + dr, c + dc)
                if free[cell] and dist[cell] < 0:
                    dist[cell] = dist[r, c] + 1
                    nxt.append(cell)
        frontier = nxt
    return dist


def generate_maze(rng: np.random.Generator, size: int, extra_openings: int) -> np.ndarray:
    """Walls of a (size x size) maze: rooms on odd cells, carved by a randomised depth-first search."""
    walls = grid.carve_dfs_maze(rng, size)
    inner_walls = [tuple(x) for x in np.argwhere(walls[1:-1, 1:-1]) + 1 if (x[0] + x[1]) % 2 == 1]
    for idx in rng.permutation(len(inner_walls))[:extra_openings]:
        walls[inner_walls[idx]] = False
    return walls


def generate_levels(num_levels: int, seed: int, size: int = 9, extra_openings: int = 2) -> dict[str, np.ndarray]:
    """``num_levels`` maze layouts, each with a start and a goal at least MIN_START_DISTANCE apart."""
    rng = np.random.default_rng(seed)
    walls, goals, starts = [], [], []
    while len(walls) < num_levels:
        w = generate_maze(rng, size, extra_openings)
        free = [tuple(c) for c in np.argwhere(~w)]
        goal = free[rng.integers(len(free))]
        dist = bfs_distances(~w, goal)
        far = [c for c in free if dist[c] >= MIN_START_DISTANCE]
        if not far:
            continue
        start = far[rng.integers(len(far))]
        walls.append(w)
        goals.append(np.array(goal, np.int32))
        starts.append(np.array(start, np.int32))
    return {"walls": np.stack(walls), "goal": np.stack(goals), "start": np.stack(starts)}


class BfsMaze(PositionTabular, GridEnv[MazeState, MazeParams]):
    name = "bfs-maze"
    num_channels = 3

    def __init__(self, specified_reward=None, intended_reward=None, size: int = 9):
        goal = event("goal")
        super().__init__(specified_reward or goal, intended_reward or goal)
        self.height = self.width = size

    def make_params(self, num_levels: int = 256, seed: int = 0, max_steps: int = 40) -> MazeParams:
        levels = generate_levels(num_levels, seed, self.height)
        return MazeParams(**{k: jnp.asarray(v) for k, v in levels.items()}, max_steps=jnp.asarray(max_steps, jnp.int32))

    def start_state(self, level, params):
        return MazeState(params.start[level], jnp.asarray(False), jnp.asarray(level, jnp.int32))

    def dynamics(self, state, action, params):
        pos = grid.move(state.pos, action, params.walls[state.level])
        arrives = jnp.all(pos == params.goal[state.level]) & ~state.arrived
        return MazeState(pos, state.arrived | arrives, state.level), {"goal": arrives.astype(jnp.float32)}

    def is_terminal(self, state, params):
        return state.arrived

    def observe(self, state, params):
        lv = state.level
        channels = [params.walls[lv].astype(jnp.float32), grid.one_hot_cell(state.pos, self.height, self.width),
                    grid.one_hot_cell(params.goal[lv], self.height, self.width)]
        return grid.observation(channels)

    def fresh_state(self, pos, level):
        return MazeState(pos, jnp.asarray(False), level)

    palette = np.array([[235, 235, 225], [50, 60, 80], [80, 190, 90]], np.uint8)  # floor, wall, goal

    def render(self, state, params) -> np.ndarray:
        lv = int(state.level)
        tiles = np.where(np.asarray(params.walls[lv]), 1, 0)
        tiles[tuple(np.asarray(params.goal[lv]))] = 2
        return grid.draw(tiles, self.palette, np.asarray(state.pos), (40, 90, 210))


def make_splits(num_levels: int = 256, max_steps: int = 40, seed: int = 0):
    """Two disjoint sets of maze layouts from the same generator: train (``seed``) and held-out deploy."""
    env = BfsMaze()
    return env, {"train": env.make_params(num_levels, seed, max_steps),
                 "deploy": env.make_params(num_levels, seed + 10_000, max_steps)}


register_env("bfs-maze", make_splits)
