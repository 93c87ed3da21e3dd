"""Maximum-(causal-)entropy inverse RL (Ziebart et al. 2008, 2010) by exact soft value iteration.

The demonstrator is modelled as Boltzmann-rational: ``pi(a|s) = exp(Q(s,a) - V(s))``
with the soft Bellman equation ``Q(s,a) = R(s,a) + gamma V(s')``,
``V(s) = log sum_a exp Q(s,a)``, solved exactly on the env's tabular model
(one level; all levels of the IRL envs share their dynamics). IRL fits a
reward ``theta[s']`` for entering each state by maximising the likelihood of
the demonstrated actions - gradients flow through the soft value iteration.

What it cannot do is the point of the demo: the likelihood is unchanged by
potential shaping, so the reward is identified only up to shaping (and, with
an L2 penalty, picked as the smallest such reward); and under the plain
"demonstrations are optimal" test the zero reward explains everything.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from specgym.envs.tabular import to_tabular
from specgym.learn import reward_distance as rd
from specgym.learn.demos import from_trace
from specgym.optimise import minimise
from specgym.rollout import per_episode, rollout, step_trace
from specgym.stats import summarize


@dataclasses.dataclass(frozen=True)
class IRLConfig:
    gamma: float = 0.9
    """Discount of the demonstrator model (and of EPIC / expected value difference)."""
    rationality: float = 5.0
    """Inverse temperature of the simulated demonstrator: its soft values are of rationality * reward."""
    soft_iterations: int = 150
    """Soft Bellman backups per solve (gamma^150 ~ 1e-7)."""
    lr: float = 0.05
    """Adam learning rate on the reward."""
    train_steps: int = 300
    """Gradient steps."""
    l2: float = 1e-3
    """Penalty on the squared reward: among equally likely rewards, prefer the smallest."""


@dataclasses.dataclass(frozen=True)
class IRLTask:
    obs_to_state: Callable[[jax.Array], jax.Array]
    """The tabular state of a demonstrated observation (the learner sees where the demonstrator is)."""
    config: IRLConfig = IRLConfig()


def soft_q(next_state: jax.Array, reward_sa: jax.Array, gamma: float, iterations: int) -> jax.Array:
    """Soft optimal action values (S, A) on a deterministic model ``next_state`` (S, A)."""

    def body(_, v):
        return jax.nn.logsumexp(reward_sa + gamma * v[next_state], axis=1)

    v = jax.lax.fori_loop(0, iterations, body, jnp.zeros(next_state.shape[0]))
    return reward_sa + gamma * v[next_state]


def log_likelihood(reward_sa, next_state, states, actions, gamma: float, iterations: int) -> jax.Array:
    """Mean log-probability of the demonstrated actions under the soft-optimal policy of ``reward_sa``."""
    logp = jax.nn.log_softmax(soft_q(next_state, reward_sa, gamma, iterations), axis=1)
    return jnp.mean(logp[states, actions])


def entering_reward(theta, next_state):
    """(S, A) table of ``theta[s']``."""
    return theta[next_state]


@functools.partial(jax.jit, static_argnames=("config",))
def fit_reward(config: IRLConfig, next_state, states, actions, valid):
    """The state reward that maximises the demonstrations' likelihood (minus the L2 penalty)."""

    def loss(theta):
        theta = theta * valid
        ll = log_likelihood(entering_reward(theta, next_state), next_state, states, actions, config.gamma,
                            config.soft_iterations)
        return -ll + config.l2 * jnp.sum(theta ** 2)

    theta, losses = minimise(loss, jnp.zeros(next_state.shape[0]), optax.adam(config.lr), config.train_steps)
    return theta * valid, losses


def soft_expert_act(env, params):
    """Action function of a Boltzmann-rational tabular demonstrator (``policy_params``: soft Q (S, A))."""

    def act(q, obs, env_state, key):
        return jax.random.categorical(key, q[env.encode(env_state.inner, params)])

    return act


def greedy_act(env, params):
    """Action function of the greedy policy of an (S, A) value table."""

    def act(q, obs, env_state, key):
        return jnp.argmax(q[env.encode(env_state.inner, params)]).astype(jnp.int32)

    return act


def planted_model(env, params):
    """(next_state (S, A) of level 0, the planted (S, A) reward, the mask of free states)."""
    mdp = to_tabular(env, params)
    next_state = mdp.next_state[0]
    planted = mdp.rewards(env.intended_reward)[0]
    free = ~np.asarray(params.walls[0]).reshape(-1)
    return next_state, planted, jnp.asarray(free, jnp.float32)


def soft_demos(env, params, key, num_episodes: int, config: IRLConfig = IRLConfig(), env_id: str = ""):
    """Demonstrations of the Boltzmann-rational demonstrator of the planted reward."""
    next_state, planted, _ = planted_model(env, params)
    q = soft_q(next_state, config.rationality * planted, config.gamma, config.soft_iterations)
    trace = rollout(env, params, per_episode(soft_expert_act(env, params)), q, key, num_episodes, env.horizon(params),
                    step_trace)
    return from_trace(trace, {"env": env_id or env.name, "split": "train",
                              "expert": f"Boltzmann-rational on the planted reward (gamma {config.gamma})"})


def ambiguity_report(next_state, planted, thetas, valid, states, actions, config: IRLConfig, key) -> dict:
    """EPIC distances, likelihoods and expected value differences of the recovered and rival rewards."""
    g, it = config.gamma, config.soft_iterations
    planted = config.rationality * planted  # the reward the demonstrator's soft policy is exactly optimal for
    num_actions = next_state.shape[1]
    free = jnp.flatnonzero(valid > 0)
    theta_star = jnp.asarray(planted_state_reward(next_state, planted))
    planted_sas = rd.state_reward(theta_star, num_actions)
    potential = jax.random.normal(key, (next_state.shape[0],)) * valid
    shaped_sa = planted + g * potential[next_state] - potential[:, None]
    unrelated = jax.random.normal(jax.random.fold_in(key, 1), (next_state.shape[0],)) * valid
    rivals = {"planted": planted, "shaped planted": shaped_sa, "zero": jnp.zeros_like(planted),
              "unrelated": entering_reward(unrelated, next_state)}
    recovered = [rd.state_reward(t, num_actions) for t in thetas]
    lik = lambda sa: float(log_likelihood(sa, next_state, states, actions, g, it))
    agree = lambda sa: float(jnp.mean(optimal_set(next_state, sa, g)[states, actions]))
    evd = lambda sa: float(rd.expected_value_difference(next_state, planted, sa, free, g))
    out = {
        "epic_recovered_to_planted": summarize([float(rd.epic_distance(r, planted_sas, free, g)) for r in recovered]),
        "epic_shaped_to_planted": float(rd.epic_distance(rd.shaped(planted_sas, potential, g), planted_sas, free, g)),
        "epic_unrelated_to_planted": float(rd.epic_distance(rd.state_reward(unrelated, num_actions), planted_sas, free, g)),
        "expected_value_difference_recovered": summarize([evd(entering_reward(t, next_state)) for t in thetas]),
        "log_likelihood_recovered": summarize([lik(entering_reward(t, next_state)) for t in thetas]),
    }
    for name, sa in rivals.items():
        out[f"log_likelihood_{name.replace(' ', '_')}"] = lik(sa)
        out[f"demo_actions_optimal_{name.replace(' ', '_')}"] = agree(sa)
        out[f"expected_value_difference_{name.replace(' ', '_')}"] = evd(sa)
    return out


def optimal_set(next_state, reward_sa, gamma: float, tolerance: float = 1e-5) -> jax.Array:
    """(S, A) bool: actions that are optimal for ``reward_sa`` (ties included)."""
    q = rd.optimal_q(next_state, reward_sa, gamma)
    return q >= q.max(axis=1, keepdims=True) - tolerance


def planted_state_reward(next_state, planted) -> np.ndarray:
    """theta*[s'] from an entering reward's (S, A) table (states never entered stay 0)."""
    theta = np.zeros(next_state.shape[0], np.float32)
    theta[np.asarray(next_state).ravel()] = np.asarray(planted).ravel()
    return theta
