"""Comparing reward functions as what they reward, not as tables of numbers.

* **EPIC** (Gleave et al. 2020): canonicalise each reward so that potential
  shaping cancels, then take the Pearson distance ``sqrt((1 - rho) / 2)``
  between the canonical rewards over a coverage distribution of transitions
  (here: uniform over the given states, actions and next states). 0 means
  "equivalent up to shaping and positive scale"; 1 means opposite.
* **Expected value difference** (Levine et al. 2011): how much true value a
  policy that is optimal for a learned reward loses, measured under the true one.

Rewards are (S, A, S) arrays ``R[s, a, s']`` over the states of one level.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def state_reward(theta: jax.Array, num_actions: int) -> jax.Array:
    """R(s, a, s') = theta[s'] : a reward for the state entered."""
    return jnp.broadcast_to(theta[None, None, :], (theta.shape[0], num_actions, theta.shape[0]))


def shaped(reward: jax.Array, potential: jax.Array, gamma: float) -> jax.Array:
    """R + gamma * phi(s') - phi(s) (Ng, Harada and Russell 1999)."""
    return reward + gamma * potential[None, None, :] - potential[:, None, None]


def canonicalise(reward: jax.Array, states: jax.Array, gamma: float) -> jax.Array:
    """Gleave et al.'s canonically shaped reward, with S and S' uniform over ``states``, A uniform.

    C(s,a,s') = R(s,a,s') + E[gamma R(s',A,S') - R(s,A,S') - gamma R(S,A,S')].
    """
    sub = reward[states][:, :, states]  # (n, A, n)
    mean_from = sub.mean(axis=(1, 2))  # E_{A,S'} R(x, A, S') for each x
    mean_all = mean_from.mean()
    return sub + gamma * mean_from[None, None, :] - mean_from[:, None, None] - gamma * mean_all


def epic_distance(reward_a: jax.Array, reward_b: jax.Array, states: jax.Array, gamma: float) -> jax.Array:
    """Pearson distance of the canonical rewards over uniform transitions; NaN if either is constant."""
    a = canonicalise(reward_a, states, gamma).ravel()
    b = canonicalise(reward_b, states, gamma).ravel()
    a, b = a - a.mean(), b - b.mean()
    rho = jnp.sum(a * b) / jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
    return jnp.sqrt(jnp.clip((1.0 - rho) / 2.0, 0.0, 1.0))


def policy_values(next_state: jax.Array, reward_sa: jax.Array, policy: jax.Array, gamma: float) -> jax.Array:
    """Discounted values of a stochastic policy (S, A) by an exact linear solve."""
    num_states = next_state.shape[0]
    transition = jnp.einsum("sa,sat->st", policy, jax.nn.one_hot(next_state, num_states))
    r = jnp.sum(policy * reward_sa, axis=1)
    return jnp.linalg.solve(jnp.eye(num_states) - gamma * transition, r)


def greedy(q: jax.Array) -> jax.Array:
    """The deterministic policy that picks the first best action, as (S, A) probabilities."""
    return jax.nn.one_hot(jnp.argmax(q, axis=1), q.shape[1])


def optimal_q(next_state: jax.Array, reward_sa: jax.Array, gamma: float, iterations: int = 400) -> jax.Array:
    """Discounted optimal action values by value iteration."""

    def body(_, v):
        return jnp.max(reward_sa + gamma * v[next_state], axis=1)

    v = jax.lax.fori_loop(0, iterations, body, jnp.zeros(next_state.shape[0]))
    return reward_sa + gamma * v[next_state]


def expected_value_difference(next_state, true_sa, learned_sa, states, gamma: float) -> jax.Array:
    """Mean over ``states`` of V*_true - V^{greedy for learned}_true (discounted); 0 iff nothing is lost."""
    best = policy_values(next_state, true_sa, greedy(optimal_q(next_state, true_sa, gamma)), gamma)
    got = policy_values(next_state, true_sa, greedy(optimal_q(next_state, learned_sa, gamma)), gamma)
    return jnp.mean((best - got)[states])
