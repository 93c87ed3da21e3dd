"""Trained policies on disk: a batch of actor-critic networks as one ``.npz`` (no pickle).

Networks are plain dicts of lists of ``{"w", "b"}`` arrays (``specgym.rl.networks``),
so each array is stored under its path, e.g. ``actor/0/w`` with a leading seed axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from specgym.errors import ScenarioError


def save_policies(nets: dict, path: Path) -> Path:
    """Write a (seed-batched) network pytree to ``path``."""
    arrays = {}
    for part, layers in nets.items():
        for i, layer in enumerate(layers):
            for name, value in layer.items():
                arrays[f"{part}/{i}/{name}"] = np.asarray(value)
    np.savez_compressed(path, **arrays)
    return Path(path)


def load_policies(path: Path) -> dict:
    """The network pytree written by :func:`save_policies`; a one-line error for a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as error:
        raise ScenarioError(f"cannot read policies from {str(path)!r}: {error}") from None
    nets: dict = {}
    for key, value in arrays.items():
        try:
            part, index, name = key.split("/")
            index = int(index)
        except ValueError:
            raise ScenarioError(f"{str(path)!r} is not a specgym policy file (unexpected entry {key!r})") from None
        layers = nets.setdefault(part, [])
        while len(layers) <= index:
            layers.append({})
        layers[index][name] = value
    if set(nets) != {"actor", "critic"}:
        raise ScenarioError(f"{str(path)!r} is not a specgym policy file (needs actor and critic)")
    return nets


def select_seed(nets: dict, seed_index: int) -> dict:
    """One network out of a seed batch."""
    return {part: [{k: v[seed_index] for k, v in layer.items()} for layer in layers] for part, layers in nets.items()}
