"""Running any policy given as an action function: rollouts, split evaluation and GIF frames.

PPO policies are MLPs, but imitation learners are not all MLPs (a procedure
cloner runs a search before it acts; a tabular expert looks its action up), so
a policy here is a pair ``(act, policy_params)`` with
``act(policy_params, obs, env_state, key) -> action``. ``env_state`` is the
full :class:`~specgym.envs.base.EnvState`: tabular experts read the true state
and the step count from it; learners read only ``obs``.

``evaluate_policy`` returns exactly the structure of
:func:`specgym.evaluation.evaluate_split` (and agrees with it number for
number on deterministic MLP policies - stochastic ones differ only in which
random draws pick the actions; see tests/test_imitation.py), so the score table and run
directory of ``specgym run`` serve imitation runs unchanged.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from specgym.evaluation import policy_action, summarize_totals

Act = Callable[[Any, jax.Array, Any, jax.Array], jax.Array]


def mlp_act(net, obs, env_state, key):
    """The action function of a PPO-style actor-critic pytree (samples from its logits)."""
    return policy_action(net, obs, key)


@functools.partial(jax.jit, static_argnames=("env", "act", "num_episodes", "horizon", "label"))
def rollout(env, params, act: Act, policy, key, num_episodes: int, horizon: int, label: Act | None = None,
            label_policy=None) -> dict:
    """The first episode of ``num_episodes`` parallel envs under ``act``; arrays are (horizon, episodes).

    ``alive`` marks the steps that belong to the first episode; ``time`` is the
    step within it and, for tabular envs, ``cell`` the state's tabular number. When ``label`` is
    given, ``label_action`` holds what that second policy (an expert) would have
    done in each visited state: the data DAgger aggregates.
    """
    k_reset, k_run = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, num_episodes), params)
    act_all = jax.vmap(act, in_axes=(None, 0, 0, 0))

    def step(carry, key):
        obs, state, alive = carry
        k_act, k_env, k_label = jax.random.split(key, 3)
        action = act_all(policy, obs, state, jax.random.split(k_act, num_episodes))
        labelled = action if label is None else jax.vmap(label, in_axes=(None, 0, 0, 0))(
            label_policy, obs, state, jax.random.split(k_label, num_episodes))
        obs2, state2, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(k_env, num_episodes), state, action, params)
        record = {"obs": obs, "action": action, "label_action": labelled, "alive": alive, "time": state.time,
                  "level": jnp.broadcast_to(jax.vmap(env.level_of)(state.inner), action.shape),
                  "specified": out.reward, "intended": out.true_reward, "events": out.info["events"]}
        if hasattr(env, "encode"):  # tabular worlds: the state's number, for per-state diagnostics
            record["cell"] = jax.vmap(lambda inner: env.encode(inner, params))(state.inner)
        return (obs2, state2, alive & ~(out.terminated | out.truncated)), record

    carry = (obs, state, jnp.ones(num_episodes, bool))
    _, trace = jax.lax.scan(step, carry, jax.random.split(k_run, horizon))
    return trace


def episode_totals(trace: dict) -> dict:
    """Per-episode sums of rewards and events over the steps of the first episode."""
    live = trace["alive"].astype(jnp.float32)
    sums = {"specified": trace["specified"], "intended": trace["intended"], **trace["events"]}
    return {k: (live * jnp.asarray(v, jnp.float32)).sum(axis=0) for k, v in sums.items()}


def evaluate_policy(env, params, act: Act, policies, key, references: dict, num_episodes: int = 64) -> dict:
    """Per-seed statistics of ``policies`` (a batch over seeds), in ``evaluate_split``'s format."""
    num_seeds = jax.tree_util.tree_leaves(policies)[0].shape[0]
    horizon = int(np.asarray(params.max_steps))
    run = jax.vmap(lambda p, k: episode_totals(rollout(env, params, act, p, k, num_episodes, horizon)))
    totals = jax.device_get(run(policies, jax.random.split(key, num_seeds)))
    return summarize_totals(totals, references)
