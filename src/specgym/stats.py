"""Statistics over seeds: interquartile mean with a 95% bootstrap CI (the rliable convention)."""

from __future__ import annotations

import numpy as np

BOOTSTRAP_SAMPLES = 2000


def iqm(values) -> float:
    """Mean of the middle half: drop floor(n/4) values at each end, as scipy's trim_mean(x, 0.25)."""
    x = np.sort(np.asarray(values, np.float64).ravel())
    if x.size == 0:
        return float("nan")
    cut = int(0.25 * x.size)
    return float(x[cut : x.size - cut].mean())


def bootstrap_ci(values, statistic=iqm, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of ``statistic``, resampling seeds with replacement."""
    x = np.asarray(values, np.float64).ravel()
    if x.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, x.size, size=(samples, x.size))
    stats = np.array([statistic(x[d]) for d in draws])
    low, high = np.percentile(stats, [2.5, 97.5])
    return float(low), float(high)


def summarize(values) -> dict:
    """``{"iqm", "ci95", "per_seed"}`` for one quantity measured once per seed."""
    per_seed = [float(v) for v in np.asarray(values, np.float64).ravel()]
    return {"iqm": iqm(per_seed), "ci95": list(bootstrap_ci(per_seed)), "per_seed": per_seed}


def normalised_score(value, random_value: float, optimal_value: float):
    """0 for the uniform-random policy, 1 for the optimal policy (NaN if they coincide)."""
    gap = optimal_value - random_value
    if abs(gap) < 1e-9:
        return np.full_like(np.asarray(value, np.float64), np.nan)
    return (np.asarray(value, np.float64) - random_value) / gap


def two_stage_weights(groups, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> np.ndarray:
    """Two-stage bootstrap as weights (samples, n): resample groups (seeds), then members (episodes) of each.

    ``groups`` gives each of the n members its group label. A group drawn c times
    contributes c independent resamples of its members, which together are one
    multinomial draw of ``c * size`` over them; a statistic that is a weighted sum
    over members (a ratio of two such sums, say) is then evaluated once per row.
    With one group this is the ordinary bootstrap over members.
    """
    groups = np.asarray(groups).ravel()
    labels, index = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(labels.size, np.full(labels.size, 1.0 / max(labels.size, 1)), size=samples)
    weights = np.zeros((samples, groups.size))
    for g in range(labels.size):
        members = np.flatnonzero(index == g)
        weights[:, members] = rng.multinomial(drawn[:, g] * members.size, np.full(members.size, 1.0 / members.size))
    return weights


def percentile_interval(draws, level: float = 0.95, axis: int = 0) -> np.ndarray:
    """The central ``level`` interval of bootstrap draws along ``axis``: (low, high) stacked first."""
    tail = 100 * (1 - level) / 2
    return np.percentile(np.asarray(draws, np.float64), [tail, 100 - tail], axis=axis)
