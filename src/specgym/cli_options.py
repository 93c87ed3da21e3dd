"""Options every ``specgym`` subcommand shares, declared once, and the parsing of ``--fix`` and ``--set``.

A command adds ``@out_option(...)``, ``@json_option(...)``, ``@seeds_option(...)``,
``@set_option(...)``, ``@fix_option()`` instead of spelling the click option out;
the defaults and help that differ between commands are the arguments. ``--set``
is read here as text only (``name -> text``): the type a value is converted to
belongs to the setting, and :mod:`specgym.settings` converts it where the setting
is known. Numbers given to options are finite (:data:`FINITE_FLOAT`), ports lie in
0..65535 (:data:`PORT`) and seeds in 0..2**32 - 1 (:data:`SEED`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import click

from specgym.errors import ScenarioError
from specgym.scenarios import LEVERS

PORT = click.IntRange(0, 65535)
"""A TCP port; 0 lets the system pick a free one."""

SEED = click.IntRange(0, 2**32 - 1)
"""A master seed: JAX keys hold 32 bits, so larger or negative seeds would collide with others."""

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class FiniteFloatRange(click.FloatRange):
    """A ``click.FloatRange`` that also refuses NaN and infinities (NaN passes every comparison of a range)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


FINITE_FLOAT = FiniteFloatRange()
"""Any finite number."""


def finite_float(min: float | None = None, max: float | None = None, min_open: bool = False,
                 max_open: bool = False) -> FiniteFloatRange:
    """A finite number in a range (``click.FloatRange``'s arguments)."""
    return FiniteFloatRange(min, max, min_open=min_open, max_open=max_open)


def out_option(default: str | None = "runs", help: str = "Where run directories go.",
               file: bool = False) -> Decorator:
    """``--out``: a directory (or, with ``file``, a file) the command writes to."""
    path = click.Path(dir_okay=False) if file else click.Path(file_okay=False)
    return click.option("--out", default=default, show_default=default is not None, type=path, help=help)


def json_option(help: str = "Print only the summary as JSON.") -> Decorator:
    """``--json``: print machine-readable output only (passed as ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def seeds_option(default: int = 8, low: int = 1, high: int = 4096,
                 help: str = "Seeds, trained at once.") -> Decorator:
    """``--seeds``: how many independent seeds (policies) to train."""
    return click.option("--seeds", default=default, show_default=True, type=click.IntRange(low, high), help=help)


def seed_option(help: str = "Master seed.") -> Decorator:
    """``--seed``: the master seed every key of the command is derived from."""
    return click.option("--seed", default=0, show_default=True, type=SEED, help=help)


def fix_option(help: str = "Apply a documented fix (repeatable).") -> Decorator:
    """``--fix LEVER=NAME`` (repeatable; passed as ``fixes``), read with :func:`parse_fixes`."""
    return click.option("--fix", "fixes", multiple=True, metavar="LEVER=NAME", help=help)


def set_option(help: str = "Scenario setting or trainer field.", metavar: str = "NAME=VALUE",
               required: bool = False) -> Decorator:
    """``--set NAME=VALUE`` (repeatable; passed as ``settings``), read with :func:`parse_settings`."""
    return click.option("--set", "settings", multiple=True, required=required, metavar=metavar, help=help)


def eval_episodes_option(default: int = 64, help: str = "Episodes per seed and split.") -> Decorator:
    """``--eval-episodes``: evaluation episodes per policy."""
    return click.option("--eval-episodes", default=default, show_default=True, type=click.IntRange(1, 100_000),
                        help=help)


def _pairs(items: Iterable[str], what: str) -> dict[str, str]:
    """``name=value`` items as a dict; a missing ``=`` or a name given twice is refused."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ScenarioError(f"--{what} takes name=value, got {item!r}")
        if name in out:
            raise ScenarioError(f"--{what} {name} is given twice ({out[name]!r} and {value!r}); give it once")
        out[name] = value
    return out


def parse_fixes(items: Iterable[str]) -> dict[str, str]:
    """``--fix`` items as ``{lever: fix name}``; an unknown lever is refused with the valid ones."""
    fixes = _pairs(items, "fix")
    for lever in fixes:
        if lever not in LEVERS:
            raise ScenarioError(f"unknown lever {lever!r} in --fix; valid: {', '.join(LEVERS)}")
    return fixes


def parse_settings(items: Iterable[str]) -> dict[str, str]:
    """``--set`` items as ``{name: text}``; the setting's own type converts the text (``specgym.settings``)."""
    return _pairs(items, "set")


def scenario_overrides(scenario: Any, items: Iterable[str]) -> dict[str, Any]:
    """``--set`` items for ``scenario``, each converted by the declared type of its setting or trainer field."""
    return scenario.parse_overrides(parse_settings(items))


def parse_setting_lists(items: Iterable[str]) -> dict[str, list[str]]:
    """``name=v1,v2,...`` -> ``{name: [v1, v2, ...]}`` as text (one value keeps the setting fixed)."""
    return {name: [v.strip() for v in text.split(",") if v.strip()] for name, text in _pairs(items, "set").items()}


def check_store_url(url: str) -> None:
    """Open and close the label database at ``url`` now, so a bad URL is refused before any training."""
    from specgym.feedback.store import StoreUnavailable, open_store

    try:
        open_store(url).close()
    except StoreUnavailable as error:
        raise ScenarioError(str(error)) from None


def scenario_settings_only(scenario: Any, items: Iterable[str], command: str) -> dict[str, Any]:
    """:func:`scenario_overrides` for a command that trains no PPO: a trainer field would be ignored, so is refused."""
    overrides = scenario_overrides(scenario, items)  # an unknown name is refused with every valid one
    for name in overrides:
        if name not in scenario.settings:
            valid = ", ".join(scenario.settings) or "none"
            raise ScenarioError(f"{command} trains no PPO, so the trainer field {name!r} would be ignored; "
                                f"settings of {scenario.id}: {valid}")
    return overrides
