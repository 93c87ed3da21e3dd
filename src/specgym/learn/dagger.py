"""DAgger (Ross, Gordon and Bagnell 2011): label the learner's own states with the expert's action.

A behavioural clone is trained on the states the *expert* visits; once it errs
it reaches states no demonstration covers, errs again, and the errors compound.
DAgger runs the learner, asks the expert what it would have done in every state
the learner reached, adds those labels to the data set and retrains. Both
methods here spend the same budget of expert labels: BC takes them all from
expert episodes, DAgger a first share from expert episodes and the rest from
its own rollouts, round by round.

``disagreement`` measures the compounding: how often the learner's action
differs from the expert's on the expert's states and on its own.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from specgym.learn import bc
from specgym.learn.demos import expert_q_values, tabular_act
from specgym.learn.rollouts import mlp_act, rollout


@dataclasses.dataclass(frozen=True)
class DAggerConfig:
    label_budget: int = 1000
    """Expert-labelled states in all, for DAgger and for the BC it is compared with."""
    rounds: int = 4
    """Rounds of collect-label-retrain; round 0 collects expert episodes."""
    episodes_per_round: int = 64
    """Episodes rolled out per round (labels beyond the round's share are dropped)."""


@functools.partial(jax.jit, static_argnames=("config", "num_actions"))
def _train_each(config: bc.BCConfig, obs, actions, weights, keys, num_actions: int):
    """One clone per seed, each on its own (padded, weighted) data set."""

    def one(o, a, w, key):
        net = bc.init_policy(config, key, o.shape[1], num_actions)
        return bc.fit(config, net, o, a, w)[0]

    return jax.vmap(one)(obs, actions, weights, keys)


def _labelled_steps(trace, take: int, rng: np.random.Generator):
    """(obs, expert labels) of ``take`` live steps of one seed's rollout, drawn uniformly without replacement.

    Drawing across all the round's episodes (rather than the first ones) keeps a
    learner that loops in one corner from spending the round's labels there.
    """
    alive = np.asarray(trace["alive"]).T
    episodes, steps = np.nonzero(alive)
    pick = rng.permutation(len(steps))[:take]
    episodes, steps = episodes[pick], steps[pick]
    return np.asarray(trace["obs"])[steps, episodes], np.asarray(trace["label_action"])[steps, episodes]


def dagger(env, params, key, seeds: int, config: DAggerConfig = DAggerConfig(),
           bc_config: bc.BCConfig = bc.BCConfig(), expert_params=None, progress=None):
    """DAgger on ``seeds`` seeds at once; returns (nets batched over seeds, per-round label counts)."""
    q = expert_q_values(env, expert_params if expert_params is not None else params)
    expert = tabular_act(env, params)
    horizon = int(np.asarray(params.max_steps))
    obs_size = env.observation_space(params).shape[0]
    share = config.label_budget // config.rounds
    data_obs = np.zeros((seeds, config.label_budget, obs_size), np.float32)
    data_act = np.zeros((seeds, config.label_budget), np.int32)
    filled = np.zeros(seeds, np.int64)
    nets = None
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    collect = jax.vmap(lambda p, k: rollout(env, params, mlp_act, p, k, config.episodes_per_round, horizon,
                                            expert, q))
    for r in range(config.rounds):
        key, k_roll, k_train = jax.random.split(key, 3)
        take = share if r < config.rounds - 1 else config.label_budget - share * (config.rounds - 1)
        if r == 0:
            trace = rollout(env, params, expert, q, k_roll, config.episodes_per_round, horizon, expert, q)
            traces = [jax.device_get(trace)] * seeds
        else:
            batched = jax.device_get(collect(nets, jax.random.split(k_roll, seeds)))
            traces = [jax.tree_util.tree_map(lambda x: x[s], batched) for s in range(seeds)]
        for s, trace in enumerate(traces):
            o, a = _labelled_steps(trace, take, rng)
            data_obs[s, filled[s]:filled[s] + len(a)] = o
            data_act[s, filled[s]:filled[s] + len(a)] = a
            filled[s] += len(a)
        weights = (np.arange(config.label_budget)[None, :] < filled[:, None]).astype(np.float32)
        nets = _train_each(bc_config, jnp.asarray(data_obs), jnp.asarray(data_act), jnp.asarray(weights),
                           jax.random.split(k_train, seeds), env.num_actions)
        if progress is not None:
            progress(r + 1)
    return nets, filled.tolist()


def disagreement(env, params, nets, key, num_episodes: int = 64, expert_params=None) -> dict:
    """Per seed: share of steps where the learner's sampled action differs from the expert's,
    on the expert's own states (``on_expert_states``) and on the learner's (``on_own_states``)."""
    q = expert_q_values(env, expert_params if expert_params is not None else params)
    expert = tabular_act(env, params)
    horizon = int(np.asarray(params.max_steps))
    k_own, k_expert = jax.random.split(key)

    def rate(trace):
        alive = trace["alive"].astype(jnp.float32)
        return jnp.sum(alive * (trace["action"] != trace["label_action"])) / jnp.sum(alive)

    own = jax.vmap(lambda n, k: rate(rollout(env, params, mlp_act, n, k, num_episodes, horizon, expert, q)))
    on_expert = jax.vmap(lambda n, k: rate(rollout(env, params, expert, q, k, num_episodes, horizon, mlp_act, n)))
    seeds = jax.tree_util.tree_leaves(nets)[0].shape[0]
    return {"on_own_states": np.asarray(own(nets, jax.random.split(k_own, seeds))),
            "on_expert_states": np.asarray(on_expert(nets, jax.random.split(k_expert, seeds)))}
