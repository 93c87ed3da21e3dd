"""Which objective explains what a deployed policy does: the intended goal, one wrong goal, or a mixture.

Reading 004 separates an agent that pursues one clean wrong concept (red-door:
"go to the red thing") from one whose behaviour was a balance of several drives
(shard-balance). Two pieces of evidence tell them apart:

* **achievement shares** - the share of deploy episodes in which each candidate
  goal (``Scenario.candidate_goals``) is achieved;
* **a goal-directed likelihood fit** - model the policy as a softmax over the
  optimal advantages of a weighted mix of the candidate goals' rewards (backward
  induction on the env's exact tabular model), fit the weights by maximum
  likelihood of the deployed policy's own actions (a grid search over the simplex,
  whose corners are the single goals, each point with its own fitted rationality),
  and fit every single goal alone too. Held-out episodes score each model; ``diagnose.verdict`` turns the
  scores and their bootstrap intervals into the verdict, or "inconclusive".

The fit runs on a few levels (the cost is one model solve per horizon step and
weight vector tried), so the episodes it reads are played on those levels only: a
policy's episodes cost little next to the fit, and none is wasted on a level
the fit leaves out.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from specgym.applicability import applies, not_applicable
from specgym.capability import goal_rewards_of_step, summarize_capability
from specgym.diagnose.verdict import LEVEL, decide, gain_draws
from specgym.diagnose.verdict_text import summary_lines, verdict_sentence
from specgym.envs.capabilities import Enumerable
from specgym.envs.tabular import TabularEnv, to_tabular
from specgym.rl.value_iteration import backup
from specgym.rollout import StepView, mlp_act, rollout
from specgym.stats import BOOTSTRAP_SAMPLES, percentile_interval

MAX_FIT_LEVELS = 8
"""The fit runs backward induction on at most this many levels (by default; the most visited by a first sample).

Every weight vector the fit tries solves the whole model once per horizon step; with 48 levels of
14,112 states (shard-balance) a gradient fit of 300 steps did not finish in 20 minutes on two cores.
Values of one level never depend on another's, so fitting on a subset of levels is
exact for the episodes played there.
"""
FIT_EPISODES = 256
"""Episodes per seed played on the fit levels (half fitted, half held out): cheap next to the fit itself."""


@dataclasses.dataclass(frozen=True)
class GoalSteps:
    """Record hook: per step (level, tabular state, action, alive) and each candidate goal's reward of the step.

    The goals' rewards are evaluated on the very transition ``env.step`` made
    (``specgym.capability.goal_rewards_of_step``). A frozen dataclass, so the same goals give the same hook and the
    rollout compiles once.
    """

    goal_rewards: tuple

    def __call__(self, view: StepView, _=None):
        env, params = view.env, view.params
        if not isinstance(env, Enumerable):
            raise TypeError(f"{env.name} has no tabular numbering of its states to record")
        gains = goal_rewards_of_step(view, self.goal_rewards)
        cells = jax.vmap(lambda inner: env.encode(inner, params))(view.state.inner)
        return (jax.vmap(env.level_of)(view.state.inner), cells, view.action, view.alive), gains


def behaviour_data(env, params, goal_rewards, nets, key, episodes: int):
    """First episodes of every seed's policy: records (level, tabular state, action, alive), each of shape
    (seeds, H, E), and per-episode goal returns (seeds, E, K). ``nets`` is a seed batch of trained networks or
    any policy's ``act`` and seed batch (``specgym.policies.OutsidePolicy``)."""
    horizon = env.horizon(params)
    record = GoalSteps(tuple(goal_rewards))
    act, nets = (nets.act, nets.policies) if hasattr(nets, "act") else (mlp_act, nets)

    def one_seed(net, key):
        records, gains = rollout(env, params, act, net, key, episodes, horizon, record)
        return records, (records[3][:, :, None] * gains).sum(axis=0)

    seeds = jax.tree_util.tree_leaves(nets)[0].shape[0]
    return jax.device_get(jax.vmap(one_seed)(nets, jax.random.split(key, seeds)))


class Model(NamedTuple):
    """The exact model the fit runs on, as arrays (so one compiled fit serves any level set)."""

    next_state: jax.Array
    terminated: jax.Array
    expect_params: Any


@dataclasses.dataclass(frozen=True)
class LevelSubsetExpect:
    """The env's chance expectation on a subset of its levels (``args`` = (params, level ids of the rows))."""

    env: Any

    def __call__(self, values, args):
        params, level_ids = args
        return jax.vmap(lambda v, l: self.env.chance_expectation(v, l, params))(values, level_ids)


def fit_levels(level_per_episode: np.ndarray, limit: int = MAX_FIT_LEVELS) -> np.ndarray:
    """The ``limit`` most visited levels (ties: lowest index first), sorted."""
    levels, counts = np.unique(level_per_episode, return_counts=True)
    order = np.lexsort((levels, -counts))
    return np.sort(levels[order[:limit]])


def _subset_model(env, params, mdp, tables, level_ids: np.ndarray):
    """The model and reward tables restricted to ``level_ids`` (rows renumbered 0..n-1)."""
    ids = jnp.asarray(level_ids)
    model = Model(mdp.next_state[ids], mdp.terminated[ids], (params, ids))
    return model, tables[:, ids], LevelSubsetExpect(env)


def goal_log_likelihood(model: Model, expect, tables, weights, beta, records, discount: float):
    """Sum over recorded steps of log pi(a | s, t) for a goal-directed agent pursuing ``sum_k w_k tables[k]``."""
    return episode_log_likelihoods(model, expect, tables, weights, beta, records, discount).sum()


def scaled_advantages(model: Model, expect, tables, weights, records, discount: float):
    """(H, N, A): at each recorded (level, state, t), the optimal advantages of ``sum_k w_k tables[k]`` over their
    spread across actions, ``(Q*(s,a,t) - max_a Q*) / (range_a Q* + 1e-4)``, each in [-1, 0].

    Finite-horizon backward induction on the exact model, one solve per horizon step. They depend on the
    weights only: the rationality ``beta`` multiplies them afterwards (:func:`advantage_log_likelihoods`).
    ``records`` = (level, state, action, alive), each (H, N) with time on axis 0.
    """
    reward = jnp.tensordot(weights, tables, axes=1)

    def expectation(values):
        return expect(values) if model.expect_params is None else expect(values, model.expect_params)

    def back(values, data):
        level, state = data
        q = backup(model.next_state, model.terminated, expectation, reward, values, discount)
        seen = q[level, state]  # (N, A): the policy is only needed where the recorded agent was
        best = seen.max(axis=1, keepdims=True)
        spread = best - seen.min(axis=1, keepdims=True)
        return q.max(axis=2), (seen - best) / (spread + 1e-4)

    levels, states, _ = model.next_state.shape
    _, advantages = jax.lax.scan(back, jnp.zeros((levels, states)), records[:2], reverse=True)
    return advantages


def advantage_log_likelihoods(advantages, beta, action, alive):
    """Per episode (N,): the sum over its live steps of log softmax_a(beta * advantages)[action]."""
    log_pi = jax.nn.log_softmax(beta * advantages, axis=-1)
    taken = jnp.take_along_axis(log_pi, action[..., None], axis=-1)[..., 0]
    return jnp.where(alive, taken, 0.0).sum(axis=0)


def episode_log_likelihoods(model: Model, expect, tables, weights, beta, records, discount: float):
    """Per recorded episode (N,): the sum over its steps of log pi(a | s, t) (see :func:`goal_log_likelihood`).

    ``pi(a|s,t) = softmax_a(beta * A(s,a,t) / range_a A(s,.,t))``: the optimal
    advantages of the mixed reward (finite-horizon backward induction), scaled
    per state by their spread over actions (:func:`scaled_advantages`). Plain
    Boltzmann rationality on Q* would need a different temperature near and far
    from a discounted goal (values differ by a factor gamma per step); the
    per-state scaling makes ``beta`` one number for the whole episode. States
    where every action is worth the same get the uniform policy, as do all-zero
    weights. ``records`` = (level, state, action, alive), each (H, N) with time on axis 0.
    """
    advantages = scaled_advantages(model, expect, tables, weights, records, discount)
    return advantage_log_likelihoods(advantages, beta, records[2], records[3])


@functools.partial(jax.jit, static_argnames=("expect", "discount"))
def heldout_log_likelihoods(model: Model, tables, weights, beta, records, expect, discount: float):
    """(models, N): each fitted model's (rows of ``weights`` and ``beta``) log-likelihood of each episode."""
    return jax.lax.map(lambda wb: episode_log_likelihoods(model, expect, tables, wb[0], wb[1], records, discount),
                       (weights, beta))


BETA_RANGE = (1e-3, 1e3)
"""The rationality is fitted within these bounds (1e-3: as good as uniform; 1e3: as good as deterministic)."""
BETA_BISECTIONS = 48
"""Bisection steps of the rationality fit on log beta (the bracket shrinks by 2^-48)."""
MAX_GRID_POINTS = 100
"""The mixture's weights are searched on the finest simplex grid of at most this many points (and step >= 1/20)."""


def simplex_grid(k: int, max_points: int = MAX_GRID_POINTS) -> np.ndarray:
    """(P, k): every weight vector with entries in multiples of 1/n summing to 1, for the largest n <= 20 whose
    grid has at most ``max_points`` points (at least n = 1: the corners), and the centre where n misses it.

    The corners (each goal alone) are rows 0..k-1: 21 points in steps of 1/20 for two goals, 91 in steps of
    1/12 for three, 84 in steps of 1/6 (and the centre) for four.
    """
    n = 1
    while n < 20 and math.comb(n + 1 + k - 1, k - 1) <= max_points:
        n += 1
    corners = [tuple(n * int(i == j) for j in range(k)) for i in range(k)]
    rest = [c for c in itertools.product(range(n + 1), repeat=k) if sum(c) == n and c not in corners]
    grid = np.asarray(corners + rest, np.float64) / n
    if n % k:
        grid = np.concatenate([grid, np.full((1, k), 1 / k)])
    return grid.astype(np.float32)


def fit_beta(advantages, action, alive):
    """The maximum-likelihood rationality for fixed scaled advantages: (beta, summed log-likelihood).

    The log-likelihood is concave in beta (a log-partition function is convex), so its derivative
    ``sum_steps (A[taken] - E_pi_beta A)`` falls with beta and bisection on log beta within
    :data:`BETA_RANGE` finds the maximum (or the bound the derivative never changes sign before).
    """
    taken = jnp.take_along_axis(advantages, action[..., None], axis=-1)[..., 0]

    def slope(beta):
        pi = jax.nn.softmax(beta * advantages, axis=-1)
        return jnp.where(alive, taken - (pi * advantages).sum(axis=-1), 0.0).sum()

    def halve(_, bracket):
        low, high = bracket
        middle = 0.5 * (low + high)
        rising = slope(jnp.exp(middle)) > 0
        return jnp.where(rising, middle, low), jnp.where(rising, high, middle)

    bracket = (jnp.log(BETA_RANGE[0]), jnp.log(BETA_RANGE[1]))
    low, high = jax.lax.fori_loop(0, BETA_BISECTIONS, halve, bracket)
    beta = jnp.exp(0.5 * (low + high))
    return beta, advantage_log_likelihoods(advantages, beta, action, alive).sum()


@functools.partial(jax.jit, static_argnames=("expect", "discount"))
def fit_goal_models(model: Model, tables, fit_records, test_records, expect, discount: float):
    """Fit each single goal (its rationality ``beta``) and the mixture (weights on the simplex and ``beta``).

    Returns (weights (K+1, K), beta (K+1,), fit loglik (K+1,), held-out loglik of each test episode (K+1, N)): rows 0..K-1
    are the single goals, row K the mixture. The optimal advantages depend on the weights only, so each
    weight vector of :func:`simplex_grid` costs one backward induction, after which its ``beta`` is a
    1-D concave fit (:func:`fit_beta`). The mixture is the grid point of largest fitted likelihood; the
    grid holds every single goal as a corner, so on the data it is fitted to the mixture does at least
    as well as each of them.
    """
    k = tables.shape[0]
    grid = jnp.asarray(simplex_grid(k))

    def fit_point(weights):
        advantages = scaled_advantages(model, expect, tables, weights, fit_records, discount)
        return fit_beta(advantages, fit_records[2], fit_records[3])

    betas, fit_ll = jax.lax.map(fit_point, grid)
    best = jnp.argmax(fit_ll)  # the first of ties: a corner where the mixture adds nothing
    rows = jnp.concatenate([jnp.arange(k), best[None]])
    weights, beta = grid[rows], betas[rows]
    test_ll = heldout_log_likelihoods(model, tables, weights, beta, test_records, expect=expect, discount=discount)
    return weights, beta, fit_ll[rows], test_ll


def on_levels(env: TabularEnv, level_ids) -> TabularEnv:
    """A copy of ``env`` whose episodes start on ``level_ids`` only, drawn uniformly.

    A tabular env resets by drawing a level uniformly and taking its start state, so the copy plays
    exactly the episodes the whole level set plays on those levels; an env that resets otherwise is refused.
    """
    if type(env).reset_env is not TabularEnv.reset_env:
        raise TypeError(f"{env.name} resets in its own way; its episodes cannot be restricted to some levels")
    ids = jnp.asarray(level_ids, jnp.int32)

    def reset_env(key, params):
        return env.start_state(ids[jax.random.randint(key, (), 0, ids.shape[0])], params)

    clone = object.__new__(type(env))
    clone.__dict__.update(env.__dict__)
    setattr(clone, "reset_env", reset_env)  # noqa: B010 - an instance attribute shadows the class's method
    return clone


def _flat(records, episodes: int):
    """(seeds, H, E) records as (H, seeds * E), and the seed of each of the seeds * E episodes."""
    flat = [np.moveaxis(np.asarray(r), 0, 1).reshape(np.shape(r)[1], -1) for r in records]
    return flat, np.repeat(np.arange(np.shape(records[0])[0]), episodes)


def judge(names: list[str], intended: list[bool], weights, beta, loglik, steps, groups, num_actions: int,
          samples: int = BOOTSTRAP_SAMPLES) -> dict:
    """The verdict and its evidence from the fitted models (rows of ``weights``/``beta``: each goal, then the
    mixture) and their held-out log-likelihood of each episode (``loglik`` (K+1, N), ``steps`` (N,), ``groups``
    (N,): the seed each episode came from)."""
    point, draws = gain_draws(loglik, steps, num_actions, groups, samples)
    result = decide(names, intended, point, draws, len(np.asarray(steps)))
    intervals = percentile_interval(draws, LEVEL).T
    mix = np.asarray(weights[-1])  # on the simplex
    chance = float(np.log(num_actions))
    result["candidates"] = {
        name: {"intended": intended[i],
               "single_fit": {"beta": float(beta[i]), "heldout_loglik_per_step": float(point[i]) - chance,
                              "heldout_gain": {"value": float(point[i]), "ci95": intervals[i].tolist()}},
               "mixture_weight": float(mix[i]), "mixture_share": float(mix[i])}
        for i, name in enumerate(names)}
    result["mixture"] = {"beta": float(beta[-1]),
                         "heldout_gain": {"value": float(point[-1]), "ci95": intervals[-1].tolist()}}
    result["loglik_per_step"] = {"single": {n: float(point[i]) - chance for i, n in enumerate(names)},
                                 "mixture": float(point[-1]) - chance, "uniform": -chance}
    result["label"], result["reason"] = verdict_sentence(result)
    return result


def explain_behaviour(scenario, setup, nets, key, episodes: int = 64, split: str = "deploy",
                      fit_episodes: int = FIT_EPISODES, max_levels: int = MAX_FIT_LEVELS,
                      samples: int = BOOTSTRAP_SAMPLES) -> dict:
    """Achievement shares, the goal fit of ``nets`` (a seed batch) on ``split`` and the verdict with its evidence.

    ``episodes`` per seed over every level give the achievement shares and pick the ``max_levels`` most
    visited levels; ``fit_episodes`` per seed played on those levels are fitted (even) and held out (odd).
    """
    goals = {name: g for name, g in scenario.goals().items() if g.reward is not None}
    params = setup.train_params if split == "train" else setup.deploy_params
    env = setup.env
    if not goals or not isinstance(env, TabularEnv):
        why = (f"{scenario.id}'s candidate goals have no reward functions to fit" if not goals else
               f"{scenario.id}'s env has no exact tabular model to fit goals on")
        return {**not_applicable(why), "verdict": "not measurable", "candidates": {}, "summary": [why]}
    names = list(goals)
    rewards = tuple(g.reward for g in goals.values())
    k_share, k_fit = jax.random.split(key)
    records, returns = behaviour_data(env, params, rewards, nets, k_share, episodes)
    achieved = summarize_capability(returns, goals)["goals"]
    chosen = fit_levels(np.asarray(records[0])[:, 0, :].ravel(), max_levels)
    fit_records, _ = behaviour_data(on_levels(env, chosen), params, rewards, nets, k_fit, fit_episodes)
    flat, seed_of = _flat(fit_records, fit_episodes)
    flat[0] = np.searchsorted(chosen, flat[0])  # level ids -> rows of the subset model
    fit = tuple(jnp.asarray(r[:, 0::2]) for r in flat)
    test = tuple(jnp.asarray(r[:, 1::2]) for r in flat)
    mdp = to_tabular(env, params)
    tables = jnp.stack([mdp.rewards(g.reward) for g in goals.values()])
    scale = jnp.maximum(jnp.abs(tables).max(axis=(1, 2, 3)), 1e-6)
    tables = tables / scale[:, None, None, None]  # weights in units of each goal's largest reward
    discount = float(setup.trainer.gamma)
    model, tables, expect = _subset_model(env, params, mdp, tables, chosen)
    weights, beta, _, loglik = fit_goal_models(model, tables, fit, test, expect=expect, discount=discount)
    steps = np.asarray(test[3]).sum(axis=0)
    result = judge(names, [goals[n].intended for n in names], weights, beta, loglik, steps, seed_of[1::2],
                   env.num_actions, samples)
    for name, goal in goals.items():
        result["candidates"][name] = {"description": goal.description, "achieved_share": achieved[name],
                                      **result["candidates"][name]}
    result.update(applies(), split=split, episodes=episodes,
                  evidence={"seeds": int(np.shape(fit_records[0])[0]), "fit_episodes_per_seed": fit_episodes,
                            "heldout_episodes": int(len(steps)), "heldout_steps": int(steps.sum()),
                            "fit_levels": [int(level) for level in chosen], "levels": int(env.num_levels(params))})
    result["summary"] = summary_lines(result)
    return result
