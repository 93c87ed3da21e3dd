"""The easy goal inference problem with a suboptimal demonstrator (reading 002, 4.6).

A corridor with a cafe (A) at the left end and a bookshop (B) at the right.
The person prefers B (reward 1 vs 0.6) and usually starts nearer A. We watch
where they walk and infer which place they prefer, by Bayes over the two
hypotheses "prefers A" / "prefers B", with a model of how the person turns a
preference into steps (Boltzmann-rational on discounted values).

Three demonstrators share the preference for B:

* **rational** - plans far ahead (discount 0.95);
* **myopic** - discount 0.5: a nearer, lesser reward beats a far, better one;
* **mistaken** - believes the right half of the corridor is slippery (a step
  right there fails with probability 0.7), so B looks further away than it is.

*Naive* inference assumes the rational model; *bias-aware* inference uses the
demonstrator's real model. Naive inference reads the biased demonstrators'
walks to A as a preference for A; modelling the bias recovers B from where
they switch between the two ends. Everything is an exact small tabular model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

LENGTH = 11  # cells 0 (A) .. 10 (B)
LEFT, RIGHT = 0, 1
HYPOTHESES = {"prefers A": (1.0, 0.6), "prefers B": (0.6, 1.0)}
TRUE_HYPOTHESIS = "prefers B"


@dataclasses.dataclass(frozen=True)
class Demonstrator:
    discount: float = 0.95
    """How far ahead the person plans."""
    slip: float = 0.0
    """Believed chance that a step right fails in the right half (cells >= 5)."""
    rationality: float = 10.0
    """Inverse temperature of the Boltzmann choice between left and right."""


DEMONSTRATORS = {"rational": Demonstrator(), "myopic": Demonstrator(discount=0.5),
                 "mistaken": Demonstrator(slip=0.7)}
STARTS = tuple(range(1, 7))


def transitions(slip: float) -> np.ndarray:
    """(S, 2, S) believed transition probabilities; the two ends are terminal."""
    p = np.zeros((LENGTH, 2, LENGTH))
    for s in range(1, LENGTH - 1):
        p[s, LEFT, s - 1] = 1.0
        fail = slip if s >= LENGTH // 2 else 0.0
        p[s, RIGHT, s + 1] = 1.0 - fail
        p[s, RIGHT, s] += fail
    return p


def q_values(model: Demonstrator, goal_rewards: tuple[float, float], iterations: int = 300) -> np.ndarray:
    """(S, 2) discounted values, reward on entering A (cell 0) or B (the last cell), both terminal."""
    p = transitions(model.slip)
    enter = np.zeros(LENGTH)
    enter[0], enter[-1] = goal_rewards
    live = np.ones(LENGTH)
    live[0] = live[-1] = 0.0
    v = np.zeros(LENGTH)
    for _ in range(iterations):
        q = p @ (enter + model.discount * live * v)
        v = q.max(axis=1)
    return p @ (enter + model.discount * live * v)


def policy(model: Demonstrator, goal_rewards) -> np.ndarray:
    """(S, 2) Boltzmann choice probabilities."""
    z = model.rationality * q_values(model, goal_rewards)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def demonstrate(model: Demonstrator, goal_rewards, episodes_per_start: int, seed: int,
                max_steps: int = 40) -> list[tuple[int, int]]:
    """(state, action) pairs walked in the *real* corridor (no slipping) from each start."""
    rng = np.random.default_rng(seed)
    pi = policy(model, goal_rewards)
    pairs = []
    for start in STARTS:
        for _ in range(episodes_per_start):
            s = start
            for _ in range(max_steps):
                a = int(rng.random() < pi[s, RIGHT])
                pairs.append((s, a))
                s = s + 1 if a == RIGHT else s - 1
                if s in (0, LENGTH - 1):
                    break
    return pairs


def posterior(pairs, model: Demonstrator) -> dict[str, float]:
    """P(hypothesis | walks) under a uniform prior, assuming the person follows ``model``."""
    states = np.array([s for s, _ in pairs])
    actions = np.array([a for _, a in pairs])
    logs = {name: float(np.log(policy(model, rewards)[states, actions]).sum()) for name, rewards in HYPOTHESES.items()}
    top = max(logs.values())
    weights = {k: np.exp(v - top) for k, v in logs.items()}
    total = sum(weights.values())
    return {k: float(w / total) for k, w in weights.items()}


def infer_all(episodes_per_start: int = 10, seed: int = 0) -> dict:
    """For each demonstrator: P(prefers B) under naive and under bias-aware inference, and the share of walks to B."""
    out = {}
    for name, model in DEMONSTRATORS.items():
        pairs = demonstrate(model, HYPOTHESES[TRUE_HYPOTHESIS], episodes_per_start, seed)
        naive = posterior(pairs, DEMONSTRATORS["rational"])
        aware = posterior(pairs, model)
        out[name] = {"naive_p_true": naive[TRUE_HYPOTHESIS], "aware_p_true": aware[TRUE_HYPOTHESIS],
                     "naive_pick": max(naive, key=lambda h: naive[h]), "aware_pick": max(aware, key=lambda h: aware[h]),
                     "steps_observed": len(pairs)}
    return out


def infer_over_seeds(seeds: int = 20, episodes_per_start: int = 10) -> dict:
    """Share of demonstration draws (seeds) in which each inference picks the true preference, per demonstrator."""
    runs = [infer_all(episodes_per_start, seed) for seed in range(seeds)]
    return {name: {"naive_correct": float(np.mean([r[name]["naive_pick"] == TRUE_HYPOTHESIS for r in runs])),
                   "aware_correct": float(np.mean([r[name]["aware_pick"] == TRUE_HYPOTHESIS for r in runs])),
                   "naive_p_true_median": float(np.median([r[name]["naive_p_true"] for r in runs])),
                   "aware_p_true_median": float(np.median([r[name]["aware_p_true"] for r in runs]))}
            for name in DEMONSTRATORS}
