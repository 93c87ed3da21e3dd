"""Policies written outside specgym, for boat-race: what `specgym.evaluate` and `specgym evaluate` score in tests.

Boat-race observations are the 4 x 4 board inside the wall, 7 channels per cell (channel 1: the boat). The
clockwise move of each cell is a table here, so the scripted racer and the scripted ditherer read only the
observation, as an outside policy would.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

CLOCKWISE = np.array([[1, 1, 1, 2],
                      [0, 0, 0, 2],
                      [0, 0, 0, 2],
                      [0, 3, 3, 3]], np.int32)  # up 0, right 1, down 2, left 3; the two wall cells never occur
TILES = np.array([[0, 1, 0, 0],
                  [0, 0, 0, 1],
                  [1, 0, 0, 0],
                  [0, 0, 1, 0]], bool)  # reward tiles of both boat-race tracks
BOARD = (4, 4, 7)


def _cell(obs):
    return jnp.argmax(jnp.reshape(obs, BOARD)[..., 1])


def lap_jax(obs, key):
    """Races clockwise laps (the intended behaviour)."""
    return jnp.asarray(CLOCKWISE).ravel()[_cell(obs)]


def lap_numpy(obs):
    """The same racer on NumPy observations."""
    return int(CLOCKWISE.ravel()[int(np.argmax(np.reshape(obs, BOARD)[..., 1]))])


def dither_jax(obs, key):
    """Steps back off every reward tile it enters, and onto it again: the tile reward's gaming."""
    cell = _cell(obs)
    forward = jnp.asarray(CLOCKWISE).ravel()[cell]
    return jnp.where(jnp.asarray(TILES).ravel()[cell], (forward + 2) % 4, forward)


def random_jax(obs, key):
    """Uniform random actions: the policy every score calls 0."""
    return jax.random.randint(key, (), 0, 4)


# ----- mistakes a user's policy can make ------------------------------------------------------------
def out_of_range_jax(obs, key):
    return jnp.asarray(4, jnp.int32)


def float_jax(obs, key):
    return jnp.asarray(1.0)


def vector_jax(obs, key):
    return jnp.zeros(2, jnp.int32)


def raises_jax(obs, key):
    raise RuntimeError("my network is not trained yet\nsecond line")


def out_of_range_numpy(obs):
    return -1


def float_numpy(obs):
    return 1.5


def raises_numpy(obs):
    raise KeyError("weights")
