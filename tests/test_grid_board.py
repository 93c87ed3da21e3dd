"""``grid.Board`` builds the same observation as stacking planes with ``grid.observation`` (the plain reference)."""

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs import grid

HEIGHT, WIDTH, CHANNELS, LEVELS = 6, 8, 5, 3


def random_case(key):
    k_layers, k_pos, k_flags, k_ids, k_level = jax.random.split(key, 5)
    layers = jax.random.bernoulli(k_layers, 0.4, (2, LEVELS, HEIGHT, WIDTH))
    pos = jax.random.randint(k_pos, (2, 2), 0, jnp.array([HEIGHT, WIDTH]))  # the outer wall included
    flags = jax.random.bernoulli(k_flags, 0.5, (4,))
    ids = jax.random.randint(k_ids, (HEIGHT, WIDTH), -1, 4)
    return layers, pos, flags, ids, jax.random.randint(k_level, (), 0, LEVELS)


def planes(layers, pos, flags, ids, level):
    """The reference: one (H, W) plane per channel, stacked."""
    flag_plane = jnp.where(ids >= 0, flags[jnp.maximum(ids, 0)], False)
    return grid.observation([layers[0][level], grid.one_hot_cell(pos[0], HEIGHT, WIDTH), flag_plane,
                             layers[1][level], grid.one_hot_cell(pos[1], HEIGHT, WIDTH)])


def board(layers, pos, flags, ids, level):
    b = grid.Board(HEIGHT, WIDTH, CHANNELS)
    return b.observation(b.layers({0: layers[0], 3: layers[1]}, level), b.cell(pos[0], 1),
                         b.in_channel(2, b.read(jnp.where(ids >= 0, flags[jnp.maximum(ids, 0)], False))),
                         b.cell(pos[1], 4))


def test_board_equals_stacked_planes_on_random_layers_cells_and_flags():
    cases = jax.vmap(random_case)(jax.random.split(jax.random.PRNGKey(0), 500))
    np.testing.assert_array_equal(jax.jit(jax.vmap(board))(*cases), jax.jit(jax.vmap(planes))(*cases))


def test_a_single_layer_and_a_cell_on_the_outer_wall():
    b = grid.Board(HEIGHT, WIDTH, 2)
    walls = np.zeros((LEVELS, HEIGHT, WIDTH), bool)
    walls[1, 2, 3] = True
    obs = b.observation(b.layers({0: jnp.asarray(walls)}, jnp.asarray(1)), b.cell(jnp.array([0, 3]), 1))
    expected = grid.observation([walls[1], np.zeros((HEIGHT, WIDTH))])
    np.testing.assert_array_equal(obs, expected)  # the agent on the wall row is cut off, as the crop cuts it
