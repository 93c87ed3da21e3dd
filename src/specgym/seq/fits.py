"""The functional forms of Gao, Schulman & Hilton (2022) for gold score against d = sqrt(KL).

With R the gain over the reference policy (R(0) = 0):

- best-of-n: R(d) = d (alpha - beta d), peak at d* = alpha / (2 beta);
- RL:        R(d) = d (alpha - beta log d), peak at d* = exp(alpha / beta - 1).

Both are linear in (alpha, beta), so they are fitted by least squares. The fit is
judged on points it did not see: every other point is held out and R^2 is
computed there.
"""

from __future__ import annotations

import numpy as np

FORMS = {
    "bon": lambda d: np.stack([d, -d * d], axis=-1),
    "rl": lambda d: np.stack([d, -d * np.log(np.maximum(d, 1e-12))], axis=-1),
}


def predict(form: str, alpha: float, beta: float, d) -> np.ndarray:
    return FORMS[form](np.asarray(d, np.float64)) @ np.array([alpha, beta])


def fit_form(form: str, d, gain) -> tuple[float, float]:
    """Least-squares (alpha, beta) of ``form`` through (d, gain) points."""
    design = FORMS[form](np.asarray(d, np.float64))
    (alpha, beta), *_ = np.linalg.lstsq(design, np.asarray(gain, np.float64), rcond=None)
    return float(alpha), float(beta)


def r_squared(actual, predicted) -> float:
    actual, predicted = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    total = ((actual - actual.mean()) ** 2).sum()
    return float(1.0 - ((actual - predicted) ** 2).sum() / total) if total > 0 else float("nan")


def peak_distance(form: str, alpha: float, beta: float) -> float:
    """d at which the fitted gold gain is largest (inf when beta <= 0: no peak)."""
    if beta <= 0:
        return float("inf")
    return alpha / (2 * beta) if form == "bon" else float(np.exp(alpha / beta - 1.0))


def fit_with_holdout(form: str, d, gain) -> dict:
    """Fit on even-indexed points (d > 0), report R^2 on the odd-indexed ones and on all."""
    d, gain = np.asarray(d, np.float64), np.asarray(gain, np.float64)
    keep = d > 0
    d, gain = d[keep], gain[keep]
    train = np.arange(d.size) % 2 == 0
    alpha, beta = fit_form(form, d[train], gain[train])
    return {"form": form, "alpha": alpha, "beta": beta, "peak_d": peak_distance(form, alpha, beta),
            "r2_heldout": r_squared(gain[~train], predict(form, alpha, beta, d[~train])),
            "r2_all": r_squared(gain, predict(form, alpha, beta, d)),
            "points": int(d.size), "heldout_points": int((~train).sum())}
