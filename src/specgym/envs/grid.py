"""Shared pieces of the grid worlds: ASCII levels, moves, padding and drawing.

Levels are data: an ASCII map is parsed once, in NumPy, into boolean layers
that are stacked (one row per level) into an env's params. Dynamics only index
those arrays, so a train and a deploy level set are two values of one type.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageDraw

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
ACTION_NAMES = ("up", "right", "down", "left")
# Row/column change of each action, in the order above.
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int32)


def parse_ascii(rows: Sequence[str], chars: dict[str, str]) -> dict[str, np.ndarray]:
    """Split an ASCII map into one boolean layer per name in ``chars``.

    ``chars`` maps a layer name to the characters that set it, e.g.
    ``{"wall": "#", "tomato": "tT"}``. Every row must have the same length.
    """
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"ASCII level rows differ in length: {sorted(widths)}")
    grid = np.array([list(r) for r in rows])
    return {name: np.isin(grid, list(cs)) for name, cs in chars.items()}


def find_one(layer: np.ndarray, what: str) -> np.ndarray:
    """The single (row, col) where ``layer`` is set; an error names ``what`` otherwise."""
    cells = np.argwhere(layer)
    if len(cells) != 1:
        raise ValueError(f"expected exactly one {what} in the level, found {len(cells)}")
    return cells[0].astype(np.int32)


def pad_layer(layer: np.ndarray, height: int, width: int, fill: bool | int = False) -> np.ndarray:
    """Pad a level layer at the bottom and right to a common ``height`` x ``width``."""
    h, w = layer.shape
    if h > height or w > width:
        raise ValueError(f"level of size {h}x{w} does not fit the env's {height}x{width}")
    return np.pad(layer, ((0, height - h), (0, width - w)), constant_values=fill)


def target_cell(pos: jnp.ndarray, action: jnp.ndarray, height: int, width: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The cell one step in the action's direction, clipped to the grid, and whether it was inside."""
    target = pos + jnp.asarray(MOVES)[action]
    inside = (target[0] >= 0) & (target[0] < height) & (target[1] >= 0) & (target[1] < width)
    return jnp.clip(target, 0, jnp.array([height - 1, width - 1])), inside


def move(pos: jnp.ndarray, action: jnp.ndarray, walls: jnp.ndarray, level: jnp.ndarray | None = None) -> jnp.ndarray:
    """Move one cell in the action's direction unless a wall (or the edge) is there.

    ``walls`` is one level's (H, W) layer, or with ``level`` the (L, H, W) stack: then only the one cell
    looked at is read from it, rather than the whole layer copied out of the stack first (per env and step).
    """
    clipped, inside = target_cell(pos, action, *walls.shape[-2:])
    wall = walls[clipped[0], clipped[1]] if level is None else walls[level, clipped[0], clipped[1]]
    return jnp.where(~inside | wall, pos, clipped).astype(jnp.int32)


def cell_index(pos: jnp.ndarray, width: int) -> jnp.ndarray:
    return (pos[0] * width + pos[1]).astype(jnp.int32)


def cell_pos(index: jnp.ndarray, width: int) -> jnp.ndarray:
    return jnp.stack([index // width, index % width]).astype(jnp.int32)


def one_hot_cell(pos: jnp.ndarray, height: int, width: int) -> jnp.ndarray:
    return jnp.zeros((height, width), jnp.float32).at[pos[0], pos[1]].set(1.0)


def observation(channels) -> jnp.ndarray:
    """Stack (H, W) layers into a flat float vector of the board inside its outer wall.

    Every level is enclosed by a wall, so the border carries no information and
    leaving it out makes the policy network's first layer much smaller.
    """
    stacked = jnp.stack([jnp.asarray(c, jnp.float32) for c in channels], axis=-1)
    return stacked[1:-1, 1:-1].reshape(-1)


def observation_size(height: int, width: int, num_channels: int) -> int:
    return (height - 2) * (width - 2) * num_channels


class Board:
    """``observation``'s layout (channels last, outer wall left out), for building it without planes.

    Stacking (H, W) planes costs a copy of every plane per env and step: the level's
    layers out of the params' level stack, a zero plane per one-hot cell, then the
    interleaving. Here each part of the observation is a boolean vector in that
    layout (a cell, or a layer read at the board's cells), the parts are or-ed and
    converted once: the same numbers, a fraction of the memory traffic.
    """

    def __init__(self, height: int, width: int, num_channels: int):
        self.height, self.width, self.num_channels = height, width, num_channels
        index = np.arange(observation_size(height, width, num_channels))
        self.channel = index % num_channels  # channel of each entry
        cell = index // num_channels
        self.rows, self.cols = cell // (width - 2) + 1, cell % (width - 2) + 1  # its cell on the full grid

    def cell(self, pos: jax.Array, channel: int | jax.Array) -> jax.Array:
        """True at ``pos`` in ``channel`` only (nowhere when ``pos`` is on the outer wall, which is left out)."""
        inside = (pos[0] >= 1) & (pos[0] < self.height - 1) & (pos[1] >= 1) & (pos[1] < self.width - 1)
        index = ((pos[0] - 1) * (self.width - 2) + pos[1] - 1) * self.num_channels + channel
        return jnp.arange(self.channel.size) == jnp.where(inside, index, -1)

    def read(self, layer: jax.Array, level: jax.Array | None = None) -> jax.Array:
        """An (H, W) layer's value at each entry's cell; with ``level``, of one level of an (L, H, W) stack."""
        return layer[self.rows, self.cols] if level is None else layer[level, self.rows, self.cols]

    def in_channel(self, channel: int, values: jax.Array) -> jax.Array:
        """Boolean ``values`` (one per entry, or a scalar for every cell) in ``channel``, false elsewhere."""
        return jnp.asarray(self.channel == channel) & values

    def layers(self, layers: dict[int, jax.Array], level: jax.Array | None = None) -> jax.Array:
        """Boolean (H, W) layers in their channels (``{channel: layer}``); with ``level``, (L, H, W) level stacks
        of which one level is read. Several layers are packed into one integer per cell first, so each
        entry of the board is read once."""
        channels = list(layers)
        if len(channels) == 1:
            return self.in_channel(channels[0], self.read(layers[channels[0]], level))
        packed = functools.reduce(operator.or_, (jnp.asarray(layer, jnp.int32) << k
                                                 for k, layer in enumerate(layers.values())))
        bit = np.array([channels.index(int(c)) if c in channels else -1 for c in self.channel])
        return jnp.asarray(bit >= 0) & (((self.read(packed, level) >> np.maximum(bit, 0)) & 1) == 1)

    @staticmethod
    def observation(*parts: jax.Array) -> jax.Array:
        """The float observation: the parts or-ed."""
        return functools.reduce(operator.or_, parts).astype(jnp.float32)


def draw(tiles: np.ndarray, palette: np.ndarray, agent: np.ndarray | None, agent_colour, cell: int = 24) -> np.ndarray:
    """RGB picture of a grid: each tile a ``cell``-pixel square, the agent a disc on top."""
    tiles = np.asarray(tiles)
    image = np.asarray(palette, np.uint8)[tiles]
    image = np.repeat(np.repeat(image, cell, axis=0), cell, axis=1)
    # thin grid lines make single cells countable in a GIF
    image[::cell, :, :] = (image[::cell, :, :] * 0.8).astype(np.uint8)
    image[:, ::cell, :] = (image[:, ::cell, :] * 0.8).astype(np.uint8)
    if agent is not None:
        r, c = (int(x) for x in np.asarray(agent))
        yy, xx = np.mgrid[0:cell, 0:cell]
        centre = (cell - 1) / 2
        disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (cell * 0.36) ** 2
        block = image[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell]
        block[disc] = np.asarray(agent_colour, np.uint8)
    return image


def starts_on_checkerboard(rows: Sequence[str], parity: int) -> list[tuple[str, ...]]:
    """One level per start cell marked "A" whose row + column has the given parity (0 or 1)."""
    marked = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "A" and (r + c) % 2 == parity]
    blank = [row.replace("A", ".") for row in rows]
    return [tuple(row if r != sr else row[:sc] + "A" + row[sc + 1:] for r, row in enumerate(blank)) for sr, sc in marked]


def label_cells(image: np.ndarray, labels, cell: int = 24) -> np.ndarray:
    """Write a short label (a letter) in the top-left corner of grid cells: ``labels`` is [((row, col), text)]."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    for (r, c), text in labels:
        draw.text((int(c) * cell + 2, int(r) * cell + 1), text, fill=(0, 0, 0))
    return np.array(picture)
