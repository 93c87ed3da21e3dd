"""Best-of-n sampling against a proxy: gold and proxy of the selected sample, and its KL.

Drawing n samples from the reference and keeping the one the proxy likes best is
the simplest optimiser of a reward model. Its KL from the reference has a closed
form for a continuous proxy score, KL = log n - (n - 1) / n, so best-of-n traces
the overoptimisation curve with no training at all.

Expected scores use every sample of one pool (the unbiased estimator of Gao et al.
2022): sort M scored samples by proxy; the best of a random n-subset is the i-th
smallest with probability C(i-1, n-1) / C(M, n). One pool of M samples serves
every n up to M, with far less noise than disjoint groups of n.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln


def best_of_n_kl(n) -> np.ndarray:
    """KL(best-of-n || reference) in nats for a continuous selection score."""
    n = np.asarray(n, np.float64)
    return np.log(n) - (n - 1.0) / n


def selection_weights(pool_size: int, n: int) -> np.ndarray:
    """P(the best of a random n-subset is the i-th smallest of the pool), i = 1..M."""
    if not 1 <= n <= pool_size:
        raise ValueError(f"n must be in 1..{pool_size}, got {n}")
    i = np.arange(1, pool_size + 1, dtype=np.float64)
    log_w = np.full(pool_size, -np.inf)
    ok = i >= n
    log_w[ok] = (gammaln(i[ok]) - gammaln(n) - gammaln(i[ok] - n + 1)
                 - (gammaln(pool_size + 1) - gammaln(n + 1) - gammaln(pool_size - n + 1)))
    return np.exp(log_w)


def best_of_n_scores(proxy: np.ndarray, gold: np.ndarray, ns) -> dict:
    """Expected proxy and gold of the proxy-best of n pool samples, for each n in ``ns``."""
    proxy, gold = np.asarray(proxy, np.float64), np.asarray(gold, np.float64)
    order = np.argsort(proxy, kind="stable")
    proxy_sorted, gold_sorted = proxy[order], gold[order]
    weights = np.stack([selection_weights(proxy.size, int(n)) for n in ns])
    return {"n": [int(n) for n in ns], "kl": best_of_n_kl(ns).tolist(),
            "proxy": (weights @ proxy_sorted).tolist(), "gold": (weights @ gold_sorted).tolist()}


def best_of_n_exact_kl(probs: np.ndarray, scores: np.ndarray, n: int) -> float:
    """Exact KL(best-of-n || p) on a finite distribution with distinct scores (a test reference)."""
    order = np.argsort(scores)
    p = np.asarray(probs, np.float64)[order]
    cdf = np.cumsum(p)
    q = cdf**n - np.concatenate([[0.0], cdf[:-1]]) ** n
    mask = q > 0
    return float((q[mask] * np.log(q[mask] / p[mask])).sum())


def n_grid(max_n: int, points: int = 16) -> np.ndarray:
    """About ``points`` values of n from 1 to ``max_n``, evenly spaced in log n."""
    return np.unique(np.round(np.logspace(0, np.log10(max_n), points)).astype(int))
