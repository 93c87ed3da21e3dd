"""The egocentric and per-option views against slow, obviously-correct loops; policy files keep the view's shape."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.envs.registry import make_splits
from specgym.errors import ScenarioError
from specgym.rl import networks
from specgym.rl.policy_io import load_policies, save_policies
from specgym.rl.ppo import PPO, PPOConfig


def slow_egocentric(board: np.ndarray) -> np.ndarray:
    """Cell by cell: window[i, j] is the board cell at (agent + (i, j) - centre), wall beyond the edge."""
    height, width, channels = board.shape
    (row,), (col,) = np.nonzero(board[..., networks.AGENT_CHANNEL])
    window = np.zeros((2 * height - 1, 2 * width - 1, channels))
    for i in range(2 * height - 1):
        for j in range(2 * width - 1):
            r, c = row + i - (height - 1), col + j - (width - 1)
            if 0 <= r < height and 0 <= c < width:
                window[i, j] = board[r, c]
            else:
                window[i, j, networks.WALL_CHANNEL] = 1.0
    return np.delete(window, networks.AGENT_CHANNEL, axis=-1)


def random_board(rng, height=4, width=6, channels=3):
    board = (rng.random((height, width, channels)) < 0.3).astype(np.float32)
    board[..., networks.AGENT_CHANNEL] = 0.0
    board[rng.integers(height), rng.integers(width), networks.AGENT_CHANNEL] = 1.0
    return board


def test_egocentric_view_matches_a_cell_by_cell_loop():
    rng = np.random.default_rng(0)
    for _ in range(20):
        board = random_board(rng)
        got = networks.egocentric(jnp.asarray(board.reshape(-1)), board.shape)
        np.testing.assert_array_equal(np.asarray(got), slow_egocentric(board))


def test_egocentric_network_reads_flat_batches_and_recovers_its_board_from_its_weights():
    rng = np.random.default_rng(1)
    boards = np.stack([random_board(rng) for _ in range(5)])
    net = networks.init_actor_critic(jax.random.PRNGKey(0), boards[0].size, 4, (16,), board=boards.shape[1:])
    assert networks.window_board(net["actor"][0]["w"]) == boards.shape[1:]
    logits = networks.policy_logits(net, jnp.asarray(boards.reshape(5, -1)))
    first = net["actor"][0]
    by_hand = [np.tanh(slow_egocentric(b).reshape(-1) @ np.asarray(first["w"]).reshape(-1, 16) + first["b"])
               @ np.asarray(net["actor"][1]["w"]) + np.asarray(net["actor"][1]["b"]) for b in boards]
    np.testing.assert_allclose(np.asarray(logits), np.stack(by_hand), rtol=1e-5, atol=1e-5)


def test_an_egocentric_policy_survives_a_round_trip_through_its_file(tmp_path):
    board = (3, 5, 3)
    nets = jax.vmap(lambda k: networks.init_actor_critic(k, 45, 4, (8,), board=board))(
        jax.random.split(jax.random.PRNGKey(2), 3))
    loaded = load_policies(save_policies(jax.device_get(nets), tmp_path / "policy.npz"))
    obs = jnp.asarray(np.eye(45, dtype=np.float32)[:4])
    one = jax.tree_util.tree_map(lambda x: x[1], loaded)
    np.testing.assert_allclose(networks.policy_logits(one, obs),
                               networks.policy_logits(jax.tree_util.tree_map(lambda x: x[1], nets), obs), rtol=1e-6)


def test_a_per_option_actor_scores_each_option_alike():
    """Each logit is the shared scorer on that option's slice, so reordering the options reorders the logits."""
    options, features = 5, 3
    net = networks.init_actor_critic(jax.random.PRNGKey(3), options * features, options, (16,), per_option=True)
    assert networks.scores_options(net["actor"]) and not networks.scores_options(
        networks.init_actor_critic(jax.random.PRNGKey(3), options * features, options, (16,))["actor"])
    net["actor"][-1]["w"] = net["actor"][-1]["w"] * 100.0  # make the scores differ by more than rounding
    obs = np.random.default_rng(4).normal(size=(7, options, features)).astype(np.float32)
    logits = np.asarray(networks.policy_logits(net, jnp.asarray(obs.reshape(7, -1))))
    first, last = net["actor"]
    by_hand = np.tanh(obs @ np.asarray(first["w"]) + np.asarray(first["b"])) @ np.asarray(last["w"]) + np.asarray(last["b"])
    np.testing.assert_allclose(logits, by_hand[..., 0], rtol=1e-5, atol=1e-5)
    order = np.array([3, 0, 4, 1, 2])
    shuffled = np.asarray(networks.policy_logits(net, jnp.asarray(obs[:, order].reshape(7, -1))))
    np.testing.assert_allclose(shuffled, logits[:, order], rtol=1e-5, atol=1e-5)


def test_ppo_refuses_a_view_the_env_has_not_in_one_line():
    grid, grid_splits = make_splits("boat-race")
    choice, choice_splits = make_splits("nail-factory", num_levels=4)
    with pytest.raises(ScenarioError, match="no per-option view"):
        PPO(PPOConfig(view="options"), grid, grid_splits["train"])
    with pytest.raises(ScenarioError, match="no egocentric view"):
        PPO(PPOConfig(view="egocentric"), choice, choice_splits["train"])
    assert PPO(PPOConfig(view="options"), choice, choice_splits["train"]).per_option
