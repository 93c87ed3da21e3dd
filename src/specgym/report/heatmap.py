"""State-visitation heatmaps: where trained agents spend their time on each split.

A heatmap answers "where does the agent go?" at a glance: coin-run's agents
crowd the right-end column at deployment, wherever the coin is. Positions come
from the env state's ``pos`` (grid row, column) or ``x`` (a track cell); envs
without a position (a recommender's preferences) have no heatmap.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from specgym.envs.capabilities import OnGrid, OnTrack, Walled
from specgym.rollout import StepView, mlp_act, rollout


def _position_field(inner) -> str | None:
    """Which state field holds the agent's position: ``pos`` (row, column), ``x`` (a cell), or None."""
    if isinstance(inner, OnGrid) and tuple(inner.pos.shape) == (2,):
        return "pos"
    if isinstance(inner, OnTrack) and tuple(inner.x.shape) == ():
        return "x"
    return None


def _position(inner):
    """(row, column) of the agent (a track cell is row 0)."""
    if _position_field(inner) == "pos":
        return jnp.asarray(inner.pos, jnp.int32)
    return jnp.stack([jnp.asarray(0, jnp.int32), jnp.asarray(inner.x, jnp.int32)])


def has_positions(env, params) -> bool:
    inner = jax.eval_shape(lambda k: env.reset_env(k, params), jax.random.PRNGKey(0))
    return _position_field(inner) is not None


def positions_visited(view: StepView, _=None):
    """Record hook: the agent's (row, column) in the state each action was taken in, and ``alive``."""
    return jax.vmap(_position)(view.state.inner), view.alive


def _grid_shape(env, params, positions: np.ndarray) -> tuple[int, int]:
    if isinstance(params, Walled) and np.ndim(params.walls) == 3:
        return int(params.walls.shape[1]), int(params.walls.shape[2])
    return int(positions[..., 0].max()) + 1, int(positions[..., 1].max()) + 1


def visitation_counts(env, params, nets, key, episodes: int = 32) -> np.ndarray | None:
    """Visits per cell over the first episode of ``episodes`` envs for every seed of ``nets``; None without positions."""
    if not has_positions(env, params):
        return None
    horizon = env.horizon(params)
    seeds = jax.tree_util.tree_leaves(nets)[0].shape[0]
    run = jax.vmap(lambda n, k: rollout(env, params, mlp_act, n, k, episodes, horizon, positions_visited))
    positions, alive = jax.device_get(run(nets, jax.random.split(key, seeds)))
    counts = np.zeros(_grid_shape(env, params, positions), np.int64)
    rows, cols = positions[..., 0][alive], positions[..., 1][alive]
    np.add.at(counts, (rows, cols), 1)
    return counts


def plot_heatmaps(counts: dict, path: Path, title: str) -> Path | None:
    """One panel per split of visit shares (log colour scale); None when no split has positions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    shown = {split: c for split, c in counts.items() if c is not None and c.sum() > 0}
    if not shown:
        return None
    wide = max(c.shape[1] for c in shown.values()) > 3 * max(c.shape[0] for c in shown.values())
    fig, axes = plt.subplots(len(shown) if wide else 1, 1 if wide else len(shown),
                             figsize=(7, 1.6 * len(shown)) if wide else (3.4 * len(shown), 3.2), squeeze=False)
    for ax, (split, c) in zip(axes.ravel(), shown.items(), strict=True):
        share = c / c.sum()
        image = ax.imshow(np.where(share > 0, share, np.nan), cmap="magma_r",
                          norm=LogNorm(vmin=max(share[share > 0].min(), 1e-4), vmax=share.max()))
        ax.set_title(f"{split}: share of steps per cell", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def save_visits(counts: dict, path: Path) -> Path:
    """Counts per split as ``.npz`` (splits without positions are left out)."""
    np.savez_compressed(path, **{split: c for split, c in counts.items() if c is not None})
    return Path(path)
