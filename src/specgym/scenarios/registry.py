"""Scenario lookup: built-in ids, and ``module:attribute`` for a user's own scenario.

Built-in scenarios are the modules of this package that define ``SCENARIO``;
adding one is adding a file. A user's scenario needs no registration at all:
``specgym run my_module:my_scenario`` imports it (see docs/custom-scenario.md),
or call :func:`register` from Python.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from specgym.scenarios.base import Scenario, ScenarioError

_SCENARIOS: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    """Make ``scenario`` known by its id to every command and function that takes one; returns it unchanged.

    A later scenario with the same id replaces the earlier (so a notebook can redefine one and rerun the cell).
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    _SCENARIOS[scenario.id] = scenario
    return scenario


def _load_builtin() -> None:
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name in ("base", "registry"):
            continue
        module = importlib.import_module(f"specgym.scenarios.{info.name}")
        if isinstance(getattr(module, "SCENARIO", None), Scenario) and module.SCENARIO.id not in _SCENARIOS:
            register(module.SCENARIO)


def builtin_ids() -> list[str]:
    """The built-in scenario ids read off the package's module names, importing none of them (for registering
    them elsewhere cheaply; a test checks that they are the ids the modules declare)."""
    names = (info.name for info in pkgutil.iter_modules([str(Path(__file__).parent)]))
    return sorted(name.replace("_", "-") for name in names if name not in ("base", "registry"))


def scenario_ids() -> list[str]:
    """Every scenario's id, sorted: the built-in ones and any :func:`register` added."""
    _load_builtin()
    return sorted(_SCENARIOS)


def get(name: str) -> Scenario:
    """A scenario by id, or by ``module:attribute`` from the user's own code."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        if not module_name or not attr:
            raise ScenarioError(f"a scenario of your own is named module:attribute, not {name!r}")
        try:
            module = importlib.import_module(module_name)
        except (ImportError, ValueError) as error:
            raise ScenarioError(f"cannot import {module_name!r} for scenario {name!r}: {error}") from None
        scenario = getattr(module, attr, None)
        if not isinstance(scenario, Scenario):
            raise ScenarioError(f"{name!r} is not a specgym Scenario")
        return register(scenario)
    _load_builtin()
    if name not in _SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r}; valid: {', '.join(sorted(_SCENARIOS))}")
    return _SCENARIOS[name]
