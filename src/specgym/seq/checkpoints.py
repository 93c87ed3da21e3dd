"""Policies and reward models on disk as ``.npz`` (no pickle), and a cache keyed by config.

Every step needs a pretrained reference policy; the cache lets ``specgym seq ppo``,
``bon`` and the others reuse the one ``specgym seq pretrain`` wrote instead of
training it again, and it is rebuilt whenever any setting that made it changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from specgym.errors import ScenarioError


def save_params(path: Path, params: dict) -> None:
    """A flat dict of arrays (the policy and reward-model pytrees are flat) to ``.npz``."""
    np.savez(path, allow_pickle=False, **{k: np.asarray(v) for k, v in params.items()})


def load_params(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: jnp.asarray(data[k]) for k in data.files}
    except (OSError, ValueError) as error:
        raise ScenarioError(f"cannot read parameters from {str(path)!r}: {error}") from None


def config_key(*configs, seed: int) -> str:
    """A short hash of the configs (frozen dataclasses) and the seed."""
    text = json.dumps([dataclasses.asdict(c) for c in configs] + [seed], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def store(cache_dir: Path | None, name: str, key: str, params: dict) -> None:
    """Put ``params`` into the cache as ``name-key.npz`` (nothing when there is no cache)."""
    if cache_dir is None:
        return
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        save_params(Path(cache_dir) / f"{name}-{key}.npz", params)
    except OSError as error:
        raise ScenarioError(f"cannot write the cache under {str(cache_dir)!r}: {error.strerror}") from None


def cached(cache_dir: Path | None, name: str, key: str, build: Callable[[], dict]) -> tuple[dict, bool]:
    """Load ``name-key.npz`` from the cache or build and store it; returns (params, was_cached)."""
    if cache_dir is None:
        return build(), False
    path = Path(cache_dir) / f"{name}-{key}.npz"
    if path.exists():
        return load_params(path), True
    params = build()
    store(cache_dir, name, key, params)
    return params, False
