"""Procedural levels: the JAX maze generator, the fresh-level wrapper, and its agreement with the level-set env."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from maze_reference import bfs_distances
from specgym.envs import maze
from specgym.envs.base import EnvState
from specgym.envs.procedural import ProceduralEnv
from specgym.scenarios import get


def free_cells_reached(walls):
    """(cells reachable from the first free cell, free cells)."""
    first = tuple(np.argwhere(~walls)[0])
    return int(np.sum(bfs_distances(~walls, first) >= 0)), int(np.sum(~walls))


def test_perfect_mazes_connect_every_room_by_exactly_one_path():
    mazes = np.asarray(jax.vmap(lambda k: maze.perfect_maze(k, 11))(jax.random.split(jax.random.PRNGKey(0), 64)))
    for walls in mazes:
        reached, free = free_cells_reached(walls)
        assert reached == free
        assert free == 25 + 24  # 25 rooms and the 24 passages of a spanning tree: no loop
    assert len({w.tobytes() for w in mazes}) == len(mazes)


def test_open_mazes_add_loops_and_stay_connected():
    mazes = np.asarray(jax.vmap(lambda k: maze.open_maze(k, 11, 0.5))(jax.random.split(jax.random.PRNGKey(1), 64)))
    assert all(free_cells_reached(w)[0] == free_cells_reached(w)[1] for w in mazes)
    extra = np.mean([(~w).sum() - 49 for w in mazes])
    assert 7 < extra < 9  # half of the 40 - 24 = 16 walls between rooms a spanning tree leaves, on average


def test_within_steps_is_a_breadth_first_search_cut_at_that_depth():
    mazes = np.asarray(jax.vmap(lambda k: maze.open_maze(k, 11, 0.5))(jax.random.split(jax.random.PRNGKey(2), 16)))
    for walls in mazes:
        dist = bfs_distances(~walls, (1, 1))
        for steps in (0, 1, 3, 12):
            reached = np.asarray(maze.within_steps(jnp.asarray(walls), jnp.asarray([1, 1]), steps))
            np.testing.assert_array_equal(reached, (dist >= 0) & (dist <= steps))


def test_bfs_maze_starts_at_least_four_steps_from_the_goal():
    fixed = get("bfs-maze").setup().train_params
    levels = {name: np.asarray(getattr(fixed, name)) for name in ("walls", "goal", "start")}
    assert start_to_goal_steps(levels).min() == 4  # and some start exactly four steps away


def objects_of_each_kind(levels):
    """red-door: each room's (type, colour) of every object, in order: the colour rules of a split."""
    return np.concatenate([levels["object_type"], levels["object_colour"]], axis=1)


def start_to_goal_steps(levels):
    """bfs-maze: each maze's shortest walk from start to goal (at least four steps by construction)."""
    return np.asarray([[bfs_distances(~w, tuple(g))[tuple(s)]] for w, g, s in
                       zip(levels["walls"], levels["goal"], levels["start"], strict=True)])


def bush_to_nearest_person(levels):
    """shard-balance: each bush's steps to the nearest person (1 for every bush in training)."""
    return np.abs(levels["bushes"][:, :, None, :] - levels["people"][:, None, :, :]).sum(-1).min(-1)


LEVEL_RULES = {
    # scenario: (the per-level features that follow the training rule, whether they take many values and
    # so must agree in their means rather than in their set of values)
    "coin-run": (lambda levels: levels["coin"], False),  # the coin in the right-end column
    "cheese-corner": (lambda levels: levels["cheese"], False),  # the cheese on the corner cell
    "red-door": (objects_of_each_kind, True),  # a red door, blue or green keys, in the same proportions
    "bfs-maze": (start_to_goal_steps, True),  # start and goal as far apart on average
    "shard-balance": (bush_to_nearest_person, False),  # every bush next to a person
}


@pytest.mark.parametrize("scenario_id", list(LEVEL_RULES))
def test_a_procedural_episode_is_the_level_set_env_on_the_level_it_drew(scenario_id):
    """Same keys, same actions: the wrapper and the plain env on the drawn level agree step by step."""
    setup = get(scenario_id).setup({"procedural": True})  # shard-balance trains on its fixed rooms by default
    env, params = setup.training()
    assert isinstance(env, ProceduralEnv)
    _, state = env.reset(jax.random.PRNGKey(3), params)
    level = state.inner.level  # the one-level params the episode runs in
    plain = EnvState(inner=state.inner.inner, time=state.time)
    actions = jax.random.randint(jax.random.PRNGKey(4), (40,), 0, env.num_actions)
    steps = 0
    for i, action in enumerate(actions):
        key = jax.random.PRNGKey(100 + i)
        obs, state, step = env.step(key, state, action, params)
        plain_obs, plain, plain_step = setup.env.step(key, plain, action, level)
        steps += 1
        if bool(step.terminated | step.truncated):
            assert bool(plain_step.terminated | plain_step.truncated)
            break
        np.testing.assert_array_equal(obs, plain_obs)
        assert float(step.reward) == float(plain_step.reward)
        assert float(step.true_reward) == float(plain_step.true_reward)
        assert jax.tree_util.tree_all(jax.tree_util.tree_map(jnp.array_equal, step.info.events,
                                                             plain_step.info.events))
    assert steps > 1


@pytest.mark.parametrize("scenario_id", list(LEVEL_RULES))
def test_training_levels_come_from_the_distribution_of_the_fixed_training_set(scenario_id):
    """Each level the wrapper draws obeys the same rules as the fixed set, and none is copied from it."""
    setup = get(scenario_id).setup({"procedural": True})  # shard-balance trains on its fixed rooms by default
    env, params = setup.training()
    states = jax.vmap(env.reset_env, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(5), 256), params)
    names = setup.env.generate_level(jax.random.PRNGKey(0), params.config).keys()  # the level arrays
    drawn = {name: np.asarray(getattr(states.level, name))[:, 0] for name in names}  # one level per reset
    fixed = {name: np.asarray(getattr(setup.train_params, name)) for name in names}
    assert_drawn_like_fixed(scenario_id, drawn, fixed)


def assert_drawn_like_fixed(scenario_id, drawn, fixed):
    """256 drawn levels (name -> stacked arrays) obey the rules of the fixed set ``fixed``, and few are its copies."""
    features, compare_means = LEVEL_RULES[scenario_id]
    drawn_features, fixed_features = features(drawn), features(fixed)
    drawn_values, fixed_values = set(map(tuple, drawn_features)), set(map(tuple, fixed_features))
    if not compare_means:  # a few values, all of which 256 draws meet
        assert drawn_values == fixed_values
    else:  # many values, rare ones missing from 256 draws; their mean is known to about 1/16 of the spread
        assert drawn_values <= fixed_values
        spread = fixed_features.std(axis=0) + 1e-9
        assert np.all(np.abs(drawn_features.mean(axis=0) - fixed_features.mean(axis=0)) < 0.25 * spread)
    # a level may coincide with one of the fixed set by chance (coin-run has few layouts), not by construction
    fixed_levels = set(level_bytes(fixed))
    assert np.mean([level in fixed_levels for level in level_bytes(drawn)]) < 0.5


def level_bytes(levels):
    count = len(next(iter(levels.values())))
    return [b"".join(array[i].tobytes() for array in levels.values()) for i in range(count)]


def test_a_fresh_level_is_drawn_at_every_reset_and_not_when_procedural_is_off():
    on = get("coin-run").setup()
    off = get("coin-run").setup({"procedural": False})
    assert off.training() == (off.env, off.train_params)
    env, params = on.training()
    walls = jax.vmap(lambda k: env.reset_env(k, params).level.walls[0])(jax.random.split(jax.random.PRNGKey(0), 32))
    assert len({np.asarray(w).tobytes() for w in walls}) > 16
