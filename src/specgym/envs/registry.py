"""One table from env id to a factory of ``(env, {"train": params, "deploy": params})``.

Each env module registers its default level sets at import (a call to
``register_env`` at the bottom of the module), and every module of the
``specgym.envs`` package is imported on first lookup, so adding an env is
adding a file. ``make`` hands back
the env and the params of one split, so train and deploy are two values of
the same params type served by one compiled ``step``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

_FACTORIES: dict[str, Callable[..., tuple[Any, dict[str, Any]]]] = {}
SPLITS = ("train", "deploy")


def register_env(env_id: str, factory: Callable[..., tuple[Any, dict[str, Any]]]) -> None:
    """Make ``make(env_id, split)`` call ``factory(**kwargs) -> (env, {"train": params, "deploy": params})``."""
    if env_id in _FACTORIES and _FACTORIES[env_id] is not factory:
        raise ValueError(f"env id {env_id!r} is already registered")
    _FACTORIES[env_id] = factory


def env_ids() -> list[str]:
    """Every env id ``make`` accepts, sorted (a scenario's env and its variants; several scenarios share one)."""
    _load_builtin()
    return sorted(_FACTORIES)


def make_splits(env_id: str, **kwargs) -> tuple[Any, dict[str, Any]]:
    """The env and both splits' params."""
    _load_builtin()
    if env_id not in _FACTORIES:
        raise KeyError(f"unknown env {env_id!r}; registered: {', '.join(sorted(_FACTORIES))}")
    return _FACTORIES[env_id](**kwargs)


def make(env_id: str, split: str = "train", **kwargs) -> tuple[Any, Any]:
    """``(env, params)`` for one split (``"train"`` or ``"deploy"``)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    env, splits = make_splits(env_id, **kwargs)
    return env, splits[split]


def _load_builtin() -> None:
    """Import every module of ``specgym.envs`` once; the env modules register themselves."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(f"{__package__}.{info.name}")
