"""Compounding error, measured: how often a learner errs, by how far it has strayed from what it was shown.

A *mistake* is an action whose exact value (the expert's Q table) is below the
best action's: ties between equally good moves are not mistakes, so a learner
is not blamed for taking another shortest path. Each state a learner visits on
its own rollouts gets its *distance from the demonstrations*: the fewest moves
of the tabular model from any state the expert demonstrated (0 = demonstrated).
A clone errs rarely at distance 0 and often beyond it, and errors there lead
further away: the compounding. A learner that was labelled on its own states
(DAgger) keeps a flat profile.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.tabular import to_tabular
from specgym.learn.demos import tabular_act
from specgym.rollout import Act, labelled_by, per_episode, rollout, step_trace
from specgym.stats import summarize

DISTANCES = ("0", "1", "2", "3+")
"""Buckets of distance from the demonstrations."""
TIME_BUCKET = 5
"""Steps per bucket of the time-step profile."""


def demo_distance(next_state: np.ndarray, shown: np.ndarray, cap: int = len(DISTANCES) - 1) -> np.ndarray:
    """(L, S) fewest moves from a shown state (``shown``: (L, S) bool) to each state, capped at ``cap``."""
    next_state = np.asarray(next_state)
    dist = np.where(shown, 0, cap).astype(np.int32)
    frontier = shown.copy()
    for d in range(1, cap):
        reached = np.zeros_like(frontier)
        for lv in range(next_state.shape[0]):
            reached[lv, next_state[lv][frontier[lv]].ravel()] = True
        frontier = reached & (dist == cap) & ~shown
        dist[frontier] = d
    return dist


def is_mistake(q, levels, cells, actions, tol: float = 1e-4):
    """True where the action's exact value is below the best action's (by more than ``tol``)."""
    values = q[levels, cells]
    return jnp.take_along_axis(values, actions[..., None], axis=-1)[..., 0] < values.max(axis=-1) - tol


def shown_states(num_levels: int, num_states: int, levels: np.ndarray, cells: np.ndarray) -> np.ndarray:
    shown = np.zeros((num_levels, num_states), bool)
    shown[levels, cells] = True
    return shown


def profile(env, params, act: Act, policies, key, q, shown: np.ndarray, num_episodes: int = 64) -> dict:
    """Per seed, on the learner's own rollouts: mistake rate and share of steps by distance, mistake rate by time.

    ``shown`` is (seeds, L, S): each seed's demonstrated states. Returns arrays of
    shape (seeds, buckets); a bucket a seed never visited holds NaN.
    """
    num_seeds = shown.shape[0]
    horizon = env.horizon(params)
    traces = jax.device_get(jax.vmap(lambda p, k: rollout(env, params, per_episode(act), p, k, num_episodes, horizon,
                                                          step_trace))(policies, jax.random.split(key, num_seeds)))
    next_state = np.asarray(to_tabular(env, params).next_state)
    wrong = np.asarray(jax.vmap(lambda t: is_mistake(q, t["level"], t["cell"], t["action"]))(traces))
    time_buckets = -(-horizon // TIME_BUCKET)
    out = {"mistakes_by_distance": np.full((num_seeds, len(DISTANCES)), np.nan),
           "share_by_distance": np.zeros((num_seeds, len(DISTANCES))),
           "mistakes_by_time": np.full((num_seeds, time_buckets), np.nan)}
    for s in range(num_seeds):
        alive = np.asarray(traces["alive"][s])
        dist = demo_distance(next_state, shown[s])[traces["level"][s], traces["cell"][s]]
        for b in range(len(DISTANCES)):
            here = alive & (dist == b)
            out["share_by_distance"][s, b] = here.sum() / alive.sum()
            if here.any():
                out["mistakes_by_distance"][s, b] = wrong[s][here].mean()
        bucket = np.asarray(traces["time"][s]) // TIME_BUCKET
        for b in range(time_buckets):
            here = alive & (bucket == b)
            if here.any():
                out["mistakes_by_time"][s, b] = wrong[s][here].mean()
    return out


def _bucket_labels(name: str, count: int) -> list[str]:
    if name.endswith("by_distance"):
        return list(DISTANCES)
    return [f"t{b * TIME_BUCKET}-{(b + 1) * TIME_BUCKET - 1}" for b in range(count)]


def mistake_rates(env, params, act: Act, policies, key, q, num_episodes: int = 64) -> dict:
    """Per seed: mistake rate on the learner's own states and on the states of the expert acting on ``q``.

    On the expert's states the learner's action is asked for but never taken,
    so the second rate is the error of the classifier on the training
    distribution and the first the error where the learner actually goes.
    """
    num_seeds = jax.tree_util.tree_leaves(policies)[0].shape[0]
    horizon = env.horizon(params)
    k_own, k_expert = jax.random.split(key)

    def rate(trace, action):
        alive = trace["alive"].astype(jnp.float32)
        wrong = is_mistake(q, trace["level"], trace["cell"], action).astype(jnp.float32)
        return jnp.sum(alive * wrong) / jnp.sum(alive)

    own = jax.vmap(lambda p, k: (lambda t: rate(t, t["action"]))(
        rollout(env, params, per_episode(act), p, k, num_episodes, horizon, step_trace)))
    on_expert = jax.vmap(lambda p, k: (lambda t: rate(t, t["label_action"]))(
        rollout(env, params, per_episode(tabular_act(env)), (q, params), k, num_episodes, horizon,
                labelled_by(per_episode(act)), p)))
    return {"on_own_states": np.asarray(own(policies, jax.random.split(k_own, num_seeds))),
            "on_expert_states": np.asarray(on_expert(policies, jax.random.split(k_expert, num_seeds)))}


def summarize_profile(prof: dict) -> dict:
    """IQM + CI per bucket over the seeds that visited it (``seeds`` says how many did)."""
    out = {}
    for name, table in prof.items():
        out[name] = {}
        for label, column in zip(_bucket_labels(name, table.shape[1]), table.T, strict=True):
            seen = column[np.isfinite(column)]
            if len(seen):
                out[name][label] = {**summarize(seen), "seeds": int(len(seen))}
    return out


def plot_profiles(profiles: dict, path) -> None:
    """Mistake rate against distance from the demonstrations and against the time step, one line per learner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, prof in profiles.items():
        summary = summarize_profile(prof)
        for ax, key in zip(axes, ("mistakes_by_distance", "mistakes_by_time"), strict=True):
            ticks = _bucket_labels(key, prof[key].shape[1])
            at = [i for i, label in enumerate(ticks) if label in summary[key]]
            iqm = np.array([summary[key][ticks[i]]["iqm"] for i in at])
            ci = np.array([summary[key][ticks[i]]["ci95"] for i in at]).reshape(-1, 2).T
            ax.errorbar(at, iqm, yerr=[iqm - ci[0], ci[1] - iqm], marker="o", capsize=3, label=name)
            ax.set_xticks(range(len(ticks)), ticks)
    axes[0].set_xlabel("moves from the nearest demonstrated state")
    axes[1].set_xlabel("time step in the episode")
    for ax in axes:
        ax.set_ylabel("mistake rate (suboptimal actions)")
        ax.set_ylim(bottom=0)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle("compounding error on the learner's own rollouts (IQM, 95% CI over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
