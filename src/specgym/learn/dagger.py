"""DAgger (Ross, Gordon and Bagnell 2011): label the learner's own states with the expert's action.

A behavioural clone is trained on the states the *expert* visits; once it errs
(or the world pushes it) it reaches states no demonstration covers, errs again,
and the errors compound. DAgger runs the learner, asks the expert what it would
have done in every state the learner reached, adds those labels to the data set
and retrains.

The comparison is only fair if both methods buy their labels the same way, so
behavioural cloning here is the same loop with the expert acting in every round
(``learner_acts=False``): each seed draws its own expert episodes, every round
contributes the same number of labelled states drawn uniformly from that
round's episodes, and with the same key round 0 is the identical data for both.
The only difference left is who acts while the labels are collected.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from specgym.learn import bc
from specgym.learn.demos import expert_q_values, tabular_act
from specgym.rollout import labelled_by, mlp_act, per_episode, rollout


@dataclasses.dataclass(frozen=True)
class DAggerConfig:
    label_budget: int = 1000
    """Expert-labelled states in all, for DAgger and for the BC it is compared with."""
    rounds: int = 4
    """Rounds of collect-label-retrain; round 0 collects expert episodes."""
    episodes_per_round: int = 64
    """Episodes rolled out per round; the round's labels are drawn uniformly from their states."""
    learner_acts: bool = True
    """False: the expert acts in every round, which makes this behavioural cloning on the same budget."""


@dataclasses.dataclass
class Aggregate:
    """Each seed's labelled data set, padded to the budget: arrays (seeds, budget, ...)."""

    obs: np.ndarray
    actions: np.ndarray
    levels: np.ndarray
    cells: np.ndarray
    rounds: np.ndarray
    """The round each row was collected in (0 = the expert's first episodes)."""
    filled: np.ndarray
    """(seeds,) rows in use."""
    complete: bool = True
    """False when Ctrl-C stopped the rounds early (the policies are those of the last finished round)."""

    def weights(self) -> np.ndarray:
        return (np.arange(self.actions.shape[1])[None, :] < self.filled[:, None]).astype(np.float32)


@functools.partial(jax.jit, static_argnames=("config", "num_actions"))
def train_each(config: bc.BCConfig, obs, actions, weights, keys, num_actions: int):
    """One clone per seed, each on its own (padded, weighted) data set."""

    def one(o, a, w, key):
        net = bc.init_policy(config, key, o.shape[1], num_actions)
        return bc.fit(config, net, o, a, w)[0]

    return jax.vmap(one)(obs, actions, weights, keys)


def _labelled_steps(trace: dict, take: int, rng: np.random.Generator) -> dict:
    """``take`` live steps of one seed's rollout, drawn uniformly without replacement.

    Drawing across all the round's episodes (rather than the first ones) keeps a
    learner that loops in one corner from spending the round's labels there.
    """
    episodes, steps = np.nonzero(np.asarray(trace["alive"]).T)
    pick = rng.permutation(len(steps))[:take]
    episodes, steps = episodes[pick], steps[pick]
    names = {"obs": "obs", "actions": "label_action", "levels": "level", "cells": "cell"}
    return {ours: np.asarray(trace[theirs])[steps, episodes] for ours, theirs in names.items()}


def dagger(env, params, key, seeds: int, config: DAggerConfig = DAggerConfig(),
           bc_config: bc.BCConfig | None = None, expert_params=None, progress=None):
    """DAgger (or, with ``learner_acts=False``, BC) on ``seeds`` seeds at once: (nets, Aggregate).

    Ctrl-C between rounds returns the last retrained policies (``Aggregate.complete`` False).
    """
    bc_config = bc_config if bc_config is not None else bc.BCConfig()
    q = expert_q_values(env, expert_params if expert_params is not None else params)
    expert, table = per_episode(tabular_act(env)), (q, params)
    labelled, learner = labelled_by(expert), per_episode(mlp_act)
    horizon = env.horizon(params)
    obs_size = env.observation_space(params).shape[0]
    budget, share = config.label_budget, config.label_budget // config.rounds
    per_row = lambda: np.zeros((seeds, budget), np.int32)
    data = Aggregate(np.zeros((seeds, budget, obs_size), np.float32), per_row(), per_row(), per_row(), per_row(),
                     np.zeros(seeds, np.int64))
    nets = None
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    episodes = config.episodes_per_round
    by_learner = jax.vmap(lambda p, k: rollout(env, params, learner, p, k, episodes, horizon, labelled, table))
    by_expert = jax.vmap(lambda k: rollout(env, params, expert, table, k, episodes, horizon, labelled, table))
    try:
        for r in range(config.rounds):
            key, k_roll, k_train = jax.random.split(key, 3)
            take = share if r < config.rounds - 1 else budget - share * (config.rounds - 1)
            keys = jax.random.split(k_roll, seeds)
            expert_turn = r == 0 or not config.learner_acts
            batched = jax.device_get(by_expert(keys) if expert_turn else by_learner(nets, keys))
            for s in range(seeds):
                rows = _labelled_steps(jax.tree_util.tree_map(lambda x, s=s: x[s], batched), take, rng)
                end = data.filled[s] + len(rows["actions"])
                for name, value in rows.items():
                    getattr(data, name)[s, data.filled[s]:end] = value
                data.rounds[s, data.filled[s]:end] = r
                data.filled[s] = end
            if config.learner_acts or r == config.rounds - 1:  # BC needs only its final fit
                nets = train_each(bc_config, jnp.asarray(data.obs), jnp.asarray(data.actions),
                                  jnp.asarray(data.weights()), jax.random.split(k_train, seeds), env.num_actions)
            if progress is not None:
                progress(r + 1)
    except KeyboardInterrupt:
        if nets is None:
            raise
        data.complete = False
    return nets, data
