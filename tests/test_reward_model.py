"""The Bradley-Terry reward-model ensemble: its loss against a slow reference, and a planted reward recovered."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.learn import reward_model as rm
from specgym.rl import networks


def slow_reward(member, x):
    """One step's reward through the MLP, in float64 NumPy."""
    for layer in member[:-1]:
        x = np.tanh(x @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64))
    return float(x @ np.asarray(member[-1]["w"], np.float64)[:, 0] + np.asarray(member[-1]["b"], np.float64)[0])


def slow_loss(member, left, right, left_mask, right_mask, label, weight):
    """The Bradley-Terry cross-entropy written pair by pair and step by step."""
    member = jax.tree_util.tree_map(lambda x: np.asarray(x, np.float64), member)  # NumPy from here on
    total, weights = 0.0, 0.0
    for i in range(len(label)):
        r_left = sum(slow_reward(member, left[i, t]) * left_mask[i, t] for t in range(left.shape[1]))
        r_right = sum(slow_reward(member, right[i, t]) * right_mask[i, t] for t in range(right.shape[1]))
        p_left = 1.0 / (1.0 + np.exp(-(r_left - r_right)))
        nll = -(label[i] * np.log(p_left) + (1 - label[i]) * np.log(1 - p_left))
        total += weight[i] * nll
        weights += weight[i]
    return total / weights


def random_batch(key, pairs=6, steps=5, features=4):
    ks = jax.random.split(key, 5)
    left = jax.random.normal(ks[0], (pairs, steps, features))
    right = jax.random.normal(ks[1], (pairs, steps, features))
    left_mask = (jax.random.uniform(ks[2], (pairs, steps)) < 0.8).astype(jnp.float32)
    right_mask = (jax.random.uniform(ks[3], (pairs, steps)) < 0.8).astype(jnp.float32)
    label = jnp.array([1.0, 0.0, 0.5, 1.0, 0.0, 0.5])[:pairs]
    weight = jnp.array([1.0, 2.0, 1.0, 0.0, 1.0, 3.0])[:pairs]
    return left, right, left_mask, right_mask, label, weight


def test_bradley_terry_loss_and_gradient_match_a_slow_reference():
    member = networks.init_mlp(jax.random.PRNGKey(1), [4, 8, 1], 1.0)
    batch = random_batch(jax.random.PRNGKey(2))
    fast = float(jax.jit(rm.bradley_terry_loss)(member, *batch))
    assert fast == pytest.approx(slow_loss(member, *[np.asarray(x, np.float64) for x in batch]), rel=1e-5)
    # gradient: central differences of the slow loss along random directions
    grads = jax.jit(jax.grad(rm.bradley_terry_loss))(member, *batch)
    leaves, treedef = jax.tree_util.tree_flatten(member)
    rng = np.random.default_rng(0)
    for _ in range(3):
        direction = [rng.normal(size=x.shape).astype(np.float32) for x in leaves]
        eps = 1e-4
        plus = jax.tree_util.tree_unflatten(treedef, [np.asarray(x, np.float64) + eps * d for x, d in zip(leaves, direction, strict=True)])
        minus = jax.tree_util.tree_unflatten(treedef, [np.asarray(x, np.float64) - eps * d for x, d in zip(leaves, direction, strict=True)])
        host = [np.asarray(x, np.float64) for x in batch]
        numeric = (slow_loss(plus, *host) - slow_loss(minus, *host)) / (2 * eps)
        analytic = sum(float(jnp.sum(g * d)) for g, d in zip(jax.tree_util.tree_leaves(grads), direction, strict=True))
        assert analytic == pytest.approx(numeric, rel=1e-3, abs=1e-5)


def test_buffer_keeps_only_usable_labels_and_drops_cant_tell():
    buffer = rm.empty_buffer(capacity=8, length=3, feature_size=2, members=2)
    feats = jnp.ones((4, 3, 2))
    masks = jnp.ones((4, 3))
    labels = jnp.array([1.0, jnp.nan, 0.0, 0.5])
    buffer = rm.add_comparisons(buffer, jax.random.PRNGKey(0), feats, feats, masks, masks, labels,
                                jnp.array([True, True, True, False]))
    assert int(buffer.count) == 4
    np.testing.assert_array_equal(np.asarray(buffer.weight[:4]), [1, 0, 1, 0])
    np.testing.assert_array_equal(np.asarray(buffer.label[:4]), [1, 0.5, 0, 0.5])
    assert float(buffer.weight[4:].sum()) == 0.0


def test_identical_members_never_disagree():
    cfg = rm.RewardModelConfig(members=3, hidden=(8,))
    model = rm.init_reward_model(jax.random.PRNGKey(0), 4, cfg)
    same = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x[:1], x.shape), model.members)
    left, right, lm, rmask, _, _ = random_batch(jax.random.PRNGKey(3))
    disagreement = jax.jit(rm.disagreement)
    assert float(jnp.max(disagreement(model._replace(members=same), left, right, lm, rmask))) < 1e-12
    assert float(jnp.max(disagreement(model, left, right, lm, rmask))) > 0.0


@pytest.fixture(scope="module")
def planted():
    """Clips of random features, labelled exactly by a planted linear per-step reward."""
    features, steps = 6, 10
    w = jnp.array([1.0, -2.0, 0.5, 0.0, 1.5, -0.7])
    key = jax.random.PRNGKey(7)

    def clips(key, n):
        return jax.random.normal(key, (n, steps, features))

    k_train, k_test, k_pairs = jax.random.split(key, 3)
    train = clips(k_train, 2000)
    left, right = train[0::2], train[1::2]
    label = ((left @ w).sum(-1) > (right @ w).sum(-1)).astype(jnp.float32)
    ones = jnp.ones(left.shape[:2])
    cfg = rm.RewardModelConfig(members=3, hidden=(32,), steps=800)
    buffer = rm.empty_buffer(1000, steps, features, cfg.members)
    buffer = rm.add_comparisons(buffer, k_pairs, left, right, ones, ones, label, jnp.ones(1000, bool))
    model = rm.init_reward_model(jax.random.PRNGKey(0), features, cfg)
    model, _ = jax.jit(lambda m, b, k: rm.train_reward_model(m, b, k, cfg))(model, buffer, jax.random.PRNGKey(1))
    return model, w, clips(k_test, 300)


def test_reward_model_recovers_a_planted_linear_reward(planted):
    model, w, test = planted
    learned = np.asarray(rm.reward(model, test)).ravel()
    truth = np.asarray(test @ w).ravel()
    assert np.corrcoef(learned, truth)[0, 1] > 0.9
    # preferences between fresh clips agree with the planted reward
    lr = np.asarray(rm.reward(model, test)).sum(-1)
    tr = np.asarray(test @ w).sum(-1)
    agree = np.mean(np.sign(lr[0::2] - lr[1::2]) == np.sign(tr[0::2] - tr[1::2]))
    assert agree > 0.9


def test_learned_reward_is_normalised_on_the_stored_steps(planted):
    model, _, test = planted
    values = np.asarray(rm.reward(model, test))
    assert abs(values.mean()) < 0.3 and 0.7 < values.std() < 1.3
