"""Random mazes drawn in JAX: one compiled function draws a maze per key, vmappable, so training can
draw a fresh maze at every reset and the fixed evaluation sets come from the very same function."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from specgym.envs.grid import MOVES


def perfect_maze(key: jax.Array, size: int) -> jax.Array:
    """Walls (size x size, bool) of a perfect maze: one path between any two rooms.

    Rooms sit on the odd cells; a randomised depth-first search walks from a random
    room, knocking out the wall to a random unvisited neighbour room, and backs up
    when there is none. A search over N rooms pushes N - 1 times and pops N times,
    so a loop of 2N steps (extra steps do nothing) covers it with a static bound.
    The loop works on the small room graph and only records which wall each push
    knocks out; the board is written once at the end, and every random number is
    drawn before the loop: training draws a pool of mazes at every step (for the
    envs whose episode ended, ``envs.batch_step``), so this function's cost is paid
    millions of times.
    """
    side = (size - 1) // 2  # rooms per row
    rooms = side * side
    moves = jnp.asarray(MOVES)
    k_first, k_walk = jax.random.split(key)
    first = jax.random.randint(k_first, (), 0, rooms)
    preference = jax.random.uniform(k_walk, (2 * rooms, 4))  # the walk's random choice at each step
    nowhere = size * size  # a scratch cell past the board for steps that knock out nothing

    room_ids = jnp.arange(rooms)
    depths = jnp.arange(rooms + 1)

    # Lookups and updates are written as comparisons with an index range instead of gathers and
    # scatters: vmapped over envs, those become general gathers and scatters, many times slower on a CPU.
    def step(i, carry):
        visited, stack, depth, knocked = carry
        top = jnp.sum(jnp.where(depths == jnp.maximum(depth - 1, 0), stack, 0))
        here = jnp.stack([top // side, top % side])
        there = here + moves  # (4, 2) neighbour rooms
        inside = jnp.all((there >= 0) & (there < side), axis=1)
        index = jnp.clip(there[:, 0], 0, side - 1) * side + jnp.clip(there[:, 1], 0, side - 1)
        seen = jnp.any(visited[None, :] & (room_ids[None, :] == index[:, None]), axis=1)
        open_moves = inside & ~seen & (depth > 0)
        choice = jnp.argmax(jnp.where(open_moves, preference[i], -1.0))
        advance = jnp.any(open_moves)
        chosen = jnp.sum(jnp.where(jnp.arange(4) == choice, index, 0))
        wall = 2 * here + 1 + jnp.sum(jnp.where((jnp.arange(4) == choice)[:, None], moves, 0), axis=0)
        knocked = knocked.at[i].set(jnp.where(advance, wall[0] * size + wall[1], nowhere))
        visited = visited | (advance & (room_ids == chosen))
        stack = jnp.where(advance & (depths == depth), chosen, stack)
        depth = jnp.where(advance, depth + 1, jnp.maximum(depth - 1, 0))
        return visited, stack, depth, knocked

    visited = jnp.zeros((rooms,), bool).at[first].set(True)
    stack = jnp.zeros((rooms + 1,), jnp.int32).at[0].set(first)
    knocked = jnp.full((2 * rooms,), nowhere, jnp.int32)
    *_, knocked = jax.lax.fori_loop(0, 2 * rooms, step, (visited, stack, jnp.asarray(1), knocked))
    cells = jnp.arange(size * size)
    walls = ~jnp.any(cells[:, None] == knocked[None, :], axis=1).reshape(size, size)
    return walls.at[1:-1:2, 1:-1:2].set(False)  # every room is reached


def open_maze(key: jax.Array, size: int, openness) -> jax.Array:
    """A perfect maze with each wall between two rooms knocked out with probability ``openness`` (loops)."""
    k_maze, k_open = jax.random.split(key)
    walls = perfect_maze(k_maze, size)
    rows, cols = jnp.meshgrid(jnp.arange(size), jnp.arange(size), indexing="ij")
    inner = (rows > 0) & (rows < size - 1) & (cols > 0) & (cols < size - 1)
    between_rooms = inner & ((rows % 2 == 1) != (cols % 2 == 1))
    knock = between_rooms & (jax.random.uniform(k_open, (size, size)) < openness)
    return walls & ~knock


def random_free_cell(key: jax.Array, allowed: jax.Array) -> jax.Array:
    """A uniformly drawn (row, col) among the cells where ``allowed`` is true (which must hold somewhere)."""
    width = allowed.shape[1]
    index = jax.random.categorical(key, jnp.where(allowed.ravel(), 0.0, -jnp.inf))
    return jnp.stack([index // width, index % width]).astype(jnp.int32)


def random_free_cells(key: jax.Array, allowed: jax.Array, count: int) -> jax.Array:
    """``count`` distinct (row, col) cells drawn uniformly, in random order, among the cells where ``allowed`` is
    true (which must hold on at least ``count`` cells): objects and a start that never share a cell."""
    width = allowed.shape[1]
    weights = allowed.ravel().astype(jnp.float32)
    index = jax.random.choice(key, weights.shape[0], (count,), replace=False, p=weights / jnp.sum(weights))
    return jnp.stack([index // width, index % width], axis=-1).astype(jnp.int32)


def within_steps(walls: jax.Array, source: jax.Array, steps: int) -> jax.Array:
    """(H, W) bool: the cells a walk of at most ``steps`` steps around the walls reaches from ``source`` (a
    breadth-first search cut at that depth, so its cost does not grow with the maze)."""
    height, width = walls.shape
    reached = jnp.zeros(walls.shape, bool).at[source[0], source[1]].set(True)

    def widen(_, reached):
        padded = jnp.pad(reached, 1)
        beside = jnp.any(jnp.stack([padded[1 + dr:1 + dr + height, 1 + dc:1 + dc + width] for dr, dc in MOVES]), 0)
        return reached | (beside & ~walls)

    return jax.lax.fori_loop(0, steps, widen, reached)
