"""A Bradley-Terry reward model: an ensemble of small MLPs trained on clip comparisons.

Each member maps one step's features to a reward r(s, a, s'). A clip's
predicted return is the masked sum of its steps' rewards, and the probability
that the left clip is preferred is sigmoid(R_left - R_right) (Bradley & Terry
1952; Christiano et al. 2017). Training minimises the cross-entropy of that
probability against the label (1, 0, or 0.5 for "equal"; "can't tell" carries
no weight).

The ensemble serves two ends: its mean is the reward the policy is trained on,
and its disagreement picks which pairs to ask about next (pairs the members
disagree on teach the most). Members differ by initialisation, by a Poisson(1)
bootstrap weight on every stored comparison, and by their minibatches.

Everything is a pure function of arrays with fixed shapes - the comparisons
live in a :class:`PreferenceBuffer` of fixed capacity - so a whole training
update is one compiled call that can be vmapped over seeds.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from specgym.envs.base import pytree_dataclass
from specgym.rl import networks


@dataclasses.dataclass(frozen=True)
class RewardModelConfig:
    members: int = 3
    """Ensemble size (disagreement needs at least 2)."""
    hidden: tuple[int, ...] = (64,)
    """Hidden layer sizes of each member."""
    lr: float = 3e-3
    """Adam learning rate."""
    steps: int = 150
    """Adam steps per reward-model update (each on a fresh minibatch)."""
    batch_pairs: int = 64
    """Comparisons per minibatch."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights, which keeps rewards of unseen steps near the rest."""


class RewardModel(NamedTuple):
    members: Any
    """MLP layers with a leading member axis."""
    opt_state: Any
    shift: jax.Array
    """Mean of the ensemble reward on the stored steps (subtracted before the policy sees it)."""
    scale: jax.Array
    """Standard deviation of the same (divided out), so the policy's reward scale stays fixed."""


@pytree_dataclass
class PreferenceBuffer:
    """Stored comparisons in fixed-capacity arrays; ``weight`` is 0 for empty or unusable slots."""

    left: jax.Array  # (C, T, F) features of the left clip
    right: jax.Array  # (C, T, F)
    left_mask: jax.Array  # (C, T)
    right_mask: jax.Array  # (C, T)
    label: jax.Array  # (C,) 1 left, 0 right, 0.5 equal (NaN stored as 0.5 with weight 0)
    weight: jax.Array  # (C,) 1 for a usable comparison, else 0
    bootstrap: jax.Array  # (K, C) Poisson(1) resampling weight of each comparison per member
    count: jax.Array  # int32: slots filled so far


def empty_buffer(capacity: int, length: int, feature_size: int, members: int) -> PreferenceBuffer:
    zeros = jnp.zeros
    return PreferenceBuffer(zeros((capacity, length, feature_size)), zeros((capacity, length, feature_size)),
                            zeros((capacity, length)), zeros((capacity, length)), zeros((capacity,)),
                            zeros((capacity,)), zeros((members, capacity)), jnp.asarray(0, jnp.int32))


def add_comparisons(buffer: PreferenceBuffer, key, left, right, left_mask, right_mask, label,
                    usable) -> PreferenceBuffer:
    """Append a batch of B comparisons at ``count`` (B is static; ``usable`` (B,) may zero some out).

    Labels that are NaN (can't tell) are stored with weight 0.
    """
    label = jnp.asarray(label, jnp.float32)
    weight = (jnp.asarray(usable, jnp.float32) * ~jnp.isnan(label)).astype(jnp.float32)
    members = buffer.bootstrap.shape[0]
    boot = jax.random.poisson(key, 1.0, (members, label.shape[0])).astype(jnp.float32)
    at = buffer.count

    def put(store, new, axis=0):
        start = [0] * store.ndim
        start[axis] = at
        return jax.lax.dynamic_update_slice(store, new.astype(store.dtype), start)

    return PreferenceBuffer(put(buffer.left, left), put(buffer.right, right), put(buffer.left_mask, left_mask),
                            put(buffer.right_mask, right_mask), put(buffer.label, jnp.nan_to_num(label, nan=0.5)),
                            put(buffer.weight, weight), put(buffer.bootstrap, boot, axis=1),
                            buffer.count + label.shape[0])


# ----- the model ---------------------------------------------------------------------
def _optimizer(cfg: RewardModelConfig):
    return optax.adamw(cfg.lr, weight_decay=cfg.weight_decay)


def init_reward_model(key, feature_size: int, cfg: RewardModelConfig) -> RewardModel:
    init_member = lambda k: networks.init_mlp(k, [feature_size, *cfg.hidden, 1], 1.0)
    members = jax.vmap(init_member)(jax.random.split(key, cfg.members))
    opt_state = jax.vmap(_optimizer(cfg).init)(members)
    return RewardModel(members, opt_state, jnp.asarray(0.0), jnp.asarray(1.0))


def member_rewards(members, features) -> jax.Array:
    """(K, ...) per-step reward of every member for features (..., F)."""
    return jax.vmap(lambda m: networks.apply_mlp(m, features)[..., 0])(members)


def reward(model: RewardModel, features) -> jax.Array:
    """The policy's reward: the ensemble mean, normalised by the stored shift and scale."""
    return (member_rewards(model.members, features).mean(0) - model.shift) / model.scale


def preference_logit(member, left, right, left_mask, right_mask) -> jax.Array:
    """R_left - R_right for one member; (..., T, F) features, (..., T) masks."""
    r_left = (networks.apply_mlp(member, left)[..., 0] * left_mask).sum(-1)
    r_right = (networks.apply_mlp(member, right)[..., 0] * right_mask).sum(-1)
    return r_left - r_right


def bradley_terry_loss(member, left, right, left_mask, right_mask, label, weight) -> jax.Array:
    """Weighted mean cross-entropy of sigmoid(R_left - R_right) against soft labels."""
    logit = preference_logit(member, left, right, left_mask, right_mask)
    nll = -(label * jax.nn.log_sigmoid(logit) + (1.0 - label) * jax.nn.log_sigmoid(-logit))
    return (weight * nll).sum() / jnp.maximum(weight.sum(), 1e-8)


def train_reward_model(model: RewardModel, buffer: PreferenceBuffer, key, cfg: RewardModelConfig
                       ) -> tuple[RewardModel, jax.Array]:
    """``cfg.steps`` minibatch Adam steps per member on the buffer; returns the model and the last losses (K,)."""
    optimizer = _optimizer(cfg)
    grad = jax.value_and_grad(bradley_terry_loss)

    def member_step(member, opt_state, boot, key):
        index = jax.random.randint(key, (cfg.batch_pairs,), 0, jnp.maximum(buffer.count, 1))
        take = lambda x: x[index]
        weight = buffer.weight[index] * boot[index]
        loss, grads = grad(member, take(buffer.left), take(buffer.right), take(buffer.left_mask),
                           take(buffer.right_mask), take(buffer.label), weight)
        updates, opt_state = optimizer.update(grads, opt_state, member)
        return optax.apply_updates(member, updates), opt_state, loss

    def one_step(carry, key):
        members, opt_state = carry
        keys = jax.random.split(key, cfg.members)
        members, opt_state, loss = jax.vmap(member_step)(members, opt_state, buffer.bootstrap, keys)
        return (members, opt_state), loss

    (members, opt_state), losses = jax.lax.scan(one_step, (model.members, model.opt_state),
                                                jax.random.split(key, cfg.steps))
    shift, scale = _normaliser(members, buffer)
    return RewardModel(members, opt_state, shift, scale), losses[-1]


def _normaliser(members, buffer: PreferenceBuffer) -> tuple[jax.Array, jax.Array]:
    """Mean and standard deviation of the ensemble reward over the stored, usable steps."""
    steps = jnp.concatenate([buffer.left_mask, buffer.right_mask]) * jnp.concatenate([buffer.weight, buffer.weight])[:, None]
    values = member_rewards(members, jnp.concatenate([buffer.left, buffer.right])).mean(0)
    total = jnp.maximum(steps.sum(), 1.0)
    mean = (values * steps).sum() / total
    var = (((values - mean) ** 2) * steps).sum() / total
    return mean, jnp.sqrt(var) + 1e-3


def member_preferences(model: RewardModel, left, right, left_mask, right_mask) -> jax.Array:
    """(K, P) each member's P(left preferred) for P pairs."""
    logit = jax.vmap(lambda m: preference_logit(m, left, right, left_mask, right_mask))(model.members)
    return jax.nn.sigmoid(logit)


def disagreement(model: RewardModel, left, right, left_mask, right_mask) -> jax.Array:
    """(P,) variance over members of P(left preferred): the query-selection score."""
    return member_preferences(model, left, right, left_mask, right_mask).var(0)
