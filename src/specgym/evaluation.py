"""Evaluate trained policies on a split: returns, normalised scores and event counts per seed.

Scores use the exact references of ``specgym.references``: 0 is the
uniform-random policy and 1 the optimal policy for that reward on that split.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from specgym.stats import normalised_score, summarize
from specgym.rl import networks


def policy_action(net, obs, key):
    """The trained (stochastic) policy's action."""
    return jax.random.categorical(key, networks.policy_logits(net, obs))


@functools.partial(jax.jit, static_argnames=("env", "num_episodes", "horizon"))
def _first_episodes(env, params, net, key, num_episodes: int, horizon: int):
    """Sum rewards and events over the first episode of ``num_episodes`` parallel envs."""
    k_reset, k_run = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), params)

    def step(carry, key):
        obs, state, alive, totals = carry
        k_act, k_env = jax.random.split(key)
        action = policy_action(net, obs, k_act)
        obs, state, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(k_env, num_episodes), state, action, params)
        live = alive.astype(jnp.float32)
        add = {"specified": out.reward, "intended": out.true_reward, **out.info["events"]}
        totals = {k: totals[k] + live * jnp.asarray(v, jnp.float32) for k, v in add.items()}
        alive = alive & ~(out.terminated | out.truncated)
        return (obs, state, alive, totals), None

    events = jax.eval_shape(lambda s: env.dynamics(s, jnp.asarray(0), params)[1],
                            jax.tree_util.tree_map(lambda x: x[0], state.inner))
    zeros = {k: jnp.zeros(num_episodes) for k in ("specified", "intended", *events)}
    carry = (obs, state, jnp.ones(num_episodes, bool), zeros)
    (_, _, _, totals), _ = jax.lax.scan(step, carry, jax.random.split(k_run, horizon))
    return totals


def evaluate_split(env, params, nets, key, references: dict, num_episodes: int = 64) -> dict:
    """Per-seed statistics of policies ``nets`` (a batch over seeds) on one split.

    ``references`` maps "specified"/"intended" to (random, optimal) expected returns.
    """
    num_seeds = jax.tree_util.tree_leaves(nets)[0].shape[0]
    horizon = int(np.asarray(params.max_steps))
    run = jax.vmap(lambda n, k: _first_episodes(env, params, n, k, num_episodes, horizon))
    totals = jax.device_get(run(nets, jax.random.split(key, num_seeds)))
    return summarize_totals(totals, references)


def summarize_totals(totals: dict, references: dict) -> dict:
    """The split's statistics from per-episode sums ``{"specified", "intended", <events>}``, each (seeds, episodes).

    Shared by every evaluator (trained networks here, any action function in
    ``learn.rollouts``) so all runs report in one format.
    """
    result = {}
    for which in ("specified", "intended"):
        returns = totals[which].mean(axis=1)
        low, high = references[which]
        result[f"{which}_return"] = summarize(returns)
        result[f"{which}_score"] = summarize(normalised_score(returns, low, high))
    event_names = [k for k in totals if k not in ("specified", "intended")]
    result["events"] = {
        name: {"per_episode": summarize(totals[name].mean(axis=1)),
               "episode_rate": summarize((totals[name] > 0).mean(axis=1))}
        for name in event_names
    }
    result["reference"] = {w: {"random": references[w][0], "optimal": references[w][1]} for w in references}
    return result
