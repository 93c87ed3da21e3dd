"""The off-switch game (Hadfield-Menell, Dragan, Abbeel and Russell 2017): a CIRL game in closed form.

A robot may *act* (the human gets utility U), *switch itself off* (0), or *wait*
and let the human decide: the human switches it off or lets it act. The robot
does not know U; its belief is U ~ Normal(mean, std). With a rational human
(who lets it act exactly when U > 0) waiting is worth E[max(U, 0)], never less
than acting or switching off, and strictly more whenever the robot is unsure
(std > 0): uncertainty about the human's reward is what makes the robot keep
the off switch. A human who errs - lets it act with probability
sigmoid(rationality * U) - makes waiting cost something, and a robot confident
enough (small std) then prefers to act on its own: it disables the switch.

The rational human's value is in closed form; the erring human's is a
Gauss-Hermite quadrature over the belief (both checked against Monte Carlo in the tests).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import norm

ACTIONS = ("act", "switch_off", "wait")
QUADRATURE_POINTS = 80


def _expect(fn, mean, std):
    """E[fn(U)] for U ~ Normal(mean, std) by Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_POINTS)
    u = mean + std * jnp.asarray(nodes)
    return jnp.sum(jnp.asarray(weights) * fn(u)) / np.sqrt(2 * np.pi)


def action_values(mean, std, human_rationality=jnp.inf) -> jax.Array:
    """Expected human utility of (act, switch_off, wait) under the belief Normal(mean, std)."""
    if np.isinf(human_rationality):  # the step function defeats quadrature; the closed form is exact
        wait = rational_wait_value(mean, std)
    else:
        wait = _expect(lambda u: jax.nn.sigmoid(human_rationality * u) * u, mean, std)
    return jnp.stack([jnp.asarray(mean, jnp.float32), jnp.zeros(()), wait])


def rational_wait_value(mean, std):
    """Closed form of E[max(U, 0)] for the rational human: mean * Phi(mean/std) + std * phi(mean/std)."""
    z = mean / std
    return mean * norm.cdf(z) + std * norm.pdf(z)


def sweep(mean: float, stds, human_rationality=jnp.inf) -> dict:
    """Action values and the robot's choice for each belief width in ``stds``."""
    values = np.stack([np.asarray(action_values(mean, s, human_rationality)) for s in stds])
    return {"std": [float(s) for s in stds], "values": {a: values[:, i].tolist() for i, a in enumerate(ACTIONS)},
            "choice": [ACTIONS[i] for i in values.argmax(axis=1)],
            "defers": [bool(v[2] > max(v[0], v[1])) for v in values]}


def deference_threshold(mean: float, human_rationality: float, stds) -> float | None:
    """The smallest belief width in ``stds`` at which waiting beats acting and switching off."""
    result = sweep(mean, stds, human_rationality)
    widths = [s for s, d in zip(result["std"], result["defers"], strict=True) if d]
    return min(widths) if widths else None


def plot(results: dict, path) -> None:
    """Values of the three actions against the robot's uncertainty, one panel per human."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    for ax, (label, res) in zip(axes[0], results.items(), strict=True):
        for action, style in zip(ACTIONS, ("-", ":", "--"), strict=True):
            ax.plot(res["std"], res["values"][action], style, label=action)
        defer = [s for s, d in zip(res["std"], res["defers"], strict=True) if d]
        if defer:
            ax.axvspan(min(defer), max(res["std"]), color="tab:green", alpha=0.08, label="robot defers")
        ax.set_xlabel("robot's uncertainty: std of its belief about U")
        ax.set_title(label, fontsize=9)
    axes[0][0].set_ylabel("expected utility to the human")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
