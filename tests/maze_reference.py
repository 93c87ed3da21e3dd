"""A plain breadth-first search: the obviously-correct reference the JAX maze code is checked against."""

import numpy as np

MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def bfs_distances(free: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """Walking distance from ``source`` to every cell (-1 where unreachable), one frontier at a time."""
    dist = np.full(free.shape, -1, np.int32)
    dist[source] = 0
    frontier = [source]
    while frontier:
        nxt = []
        for r, c in frontier:
            for dr, dc in MOVES:
                cell = (r + dr, c + dc)
                if 0 <= cell[0] < free.shape[0] and 0 <= cell[1] < free.shape[1] and free[cell] and dist[cell] < 0:
                    dist[cell] = dist[r, c] + 1
                    nxt.append(cell)
        frontier = nxt
    return dist
