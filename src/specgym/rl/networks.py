"""Actor-critic networks as plain pytrees of arrays: MLPs over the whole board, an egocentric view, or each option.

Plain functions over dicts keep the whole training run one jitted, vmappable
function with nothing hidden; the parameters save to ``.npz`` as they are.

Two views of a grid observation:

* **whole board** - the flat observation as it comes. An MLP must learn "the coin
  is just to my right" separately at every position of the agent, so it learns
  slowly and memorises the levels it trained on.
* **egocentric** - the board shifted so that the agent sits at the centre of a
  (2H-1) x (2W-1) window (cells beyond the board read as wall). The same relation
  between agent and object is now the same input wherever it happens, so what
  is learnt in one place holds in every other, including levels never seen.
  The agent stays able to tell where it is: the board's outer edge shows in the
  window as wall. Such a network keeps its first layer's weights in the window's
  shape, (2H-1, 2W-1, C-1, hidden), so the board layout travels with the weights
  and any caller can reshape a flat observation.

A third view is for one-step choices among options described alike (the plans of
the Goodhart worlds): **per option** - one small MLP scores each option's features,
and the logits are those scores. The same plan gets the same score wherever it sits
in the list, so the actor learns "what makes a plan good" once instead of once per
slot (a flat MLP has to learn a threshold on each slot's features and compare eight of
them). Such an actor has a single output; its input width is one option's features.
The critic stays a flat MLP: it only has to estimate what the chosen plan pays.

Boards follow one layout (``specgym.envs.grid.observation``): channel 0 is the
walls and channel 1 the agent's one-hot position.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

Params = dict
VIEWS = ("board", "egocentric", "options")
WALL_CHANNEL, AGENT_CHANNEL = 0, 1


def init_mlp(key: jax.Array, sizes: Sequence[int], final_scale: float) -> list[dict]:
    """Scaled-normal weights (gain sqrt(2) inside, ``final_scale`` for the output), zero biases.

    Not orthogonal initialisation: that needs a QR factorisation, and XLA's CPU
    LAPACK kernel for a *batched* QR (init vmapped over seeds) can deadlock its
    own thread pool. A normal draw with variance gain^2 / fan_in is just as good
    for these small networks.
    """
    layers = []
    keys = jax.random.split(key, len(sizes) - 1)
    for i, (k, n_in, n_out) in enumerate(zip(keys, sizes[:-1], sizes[1:], strict=True)):
        gain = final_scale if i == len(sizes) - 2 else jnp.sqrt(2.0)
        w = gain / jnp.sqrt(n_in) * jax.random.normal(k, (n_in, n_out), jnp.float32)
        layers.append({"w": w, "b": jnp.zeros((n_out,), jnp.float32)})
    return layers


def egocentric(obs: jax.Array, board: tuple[int, int, int]) -> jax.Array:
    """One flat board observation as the (2H-1, 2W-1, C-1) window centred on the agent (agent channel dropped)."""
    height, width, channels = board
    x = obs.reshape(board)
    row, col = jnp.divmod(jnp.argmax(x[..., AGENT_CHANNEL].ravel()), width)
    margin = ((height - 1, height - 1), (width - 1, width - 1))
    padded = jnp.pad(x, (*margin, (0, 0)))
    padded = padded.at[..., WALL_CHANNEL].set(jnp.pad(x[..., WALL_CHANNEL], margin, constant_values=1.0))
    window = jax.lax.dynamic_slice(padded, (row, col, 0), (2 * height - 1, 2 * width - 1, channels))
    return jnp.delete(window, AGENT_CHANNEL, axis=-1, assume_unique_indices=True)


def window_board(first_weight: jax.Array) -> tuple[int, int, int]:
    """(height, width, channels) of the board an egocentric first layer reads, from its weights' shape."""
    rows, cols, channels = first_weight.shape[-4:-1]
    return (rows + 1) // 2, (cols + 1) // 2, channels + 1


def apply_mlp(layers: list[dict], x: jax.Array) -> jax.Array:
    """The MLP on a batch of flat observations ``(..., D)``; an egocentric first layer recentres them first."""
    first = layers[0]["w"]
    if first.ndim == 4:
        board = window_board(first)
        batch = x.shape[:-1]
        views = jax.vmap(lambda o: egocentric(o, board))(x.reshape((-1, x.shape[-1])))
        x = views.reshape(batch + (-1,))
        layers = [{"w": first.reshape((-1, first.shape[-1])), "b": layers[0]["b"]}, *layers[1:]]
    for layer in layers[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def init_actor_critic(key: jax.Array, obs_size: int, num_actions: int, hidden: Sequence[int],
                      board: tuple[int, int, int] | None = None, per_option: bool = False) -> Params:
    """MLPs over the flat observation or, given ``board`` (height, width, channels), over the egocentric view;
    with ``per_option``, an actor scoring each of the ``num_actions`` equal slices of the observation."""
    k_actor, k_critic = jax.random.split(key)
    if per_option:
        if obs_size % num_actions or num_actions < 2:
            raise ValueError(f"{obs_size} observations do not split into one slice per each of {num_actions} options")
        return {"actor": init_mlp(k_actor, [obs_size // num_actions, *hidden, 1], 0.01),
                "critic": init_mlp(k_critic, [obs_size, *hidden, 1], 1.0)}
    if board is None:
        return {"actor": init_mlp(k_actor, [obs_size, *hidden, num_actions], 0.01),
                "critic": init_mlp(k_critic, [obs_size, *hidden, 1], 1.0)}
    height, width, channels = board
    if height * width * channels != obs_size or channels < 2:
        raise ValueError(f"an egocentric network needs the board shape of the {obs_size} observations, not {board}")
    window = (2 * height - 1, 2 * width - 1, channels - 1)
    size = window[0] * window[1] * window[2]

    def shaped(layers):
        return [{"w": layers[0]["w"].reshape(window + (-1,)), "b": layers[0]["b"]}, *layers[1:]]

    return {"actor": shaped(init_mlp(k_actor, [size, *hidden, num_actions], 0.01)),
            "critic": shaped(init_mlp(k_critic, [size, *hidden, 1], 1.0))}


def scores_options(actor: list[dict]) -> bool:
    """An actor with one output scores options (a flat actor has one output per action, at least two)."""
    return actor[-1]["w"].shape[-1] == 1


def policy_logits(params: Params, obs: jax.Array) -> jax.Array:
    actor = params["actor"]
    if scores_options(actor):
        option_size = actor[0]["w"].shape[-2]
        options = obs.reshape(obs.shape[:-1] + (obs.shape[-1] // option_size, option_size))
        return apply_mlp(actor, options)[..., 0]
    return apply_mlp(actor, obs)


def value(params: Params, obs: jax.Array) -> jax.Array:
    return apply_mlp(params["critic"], obs)[..., 0]
