"""Settings given as text (``--set name=value``), converted by their declared type, and the checks configs run.

One parser serves every command: a scenario setting is converted by the type it
declares (or its default's), a field of a frozen-dataclass config by the field's
annotation. Text that does not fit the type ends in one line of one format,
``bad value '...' for setting 'name': expected ...``. Numbers must be finite
everywhere, and integers must fit the 32-bit integers JAX computes with, so an
overflow or a NaN policy is refused before anything runs.

Configs check their own ranges in ``__post_init__`` with :func:`check_fields`,
so a value set from Python is held to the same rules as one typed on the command line.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

from specgym.errors import ScenarioError

INT_LIMIT = 2**31 - 1
"""Largest integer a setting takes: JAX computes with 32-bit integers."""



def describe(kind: Any) -> str:
    """What a value of ``kind`` looks like, for the error line."""
    if kind is bool:
        return "true or false"
    if kind is int:
        return f"an integer from {-INT_LIMIT - 1} to {INT_LIMIT}"
    if kind is float:
        return "a finite number"
    if kind is str:
        return "text"
    item = _tuple_item(kind)
    if item is not None:
        return f"one or more comma-separated values, each {describe(item)}"
    return getattr(kind, "__name__", str(kind))


def parse_value(name: str, text: str, kind: Any) -> Any:
    """``text`` converted to ``kind`` (bool, int, float, str or a tuple of one of them), or a ScenarioError."""
    converted = _convert(text.strip(), kind)
    if converted is None:
        raise ScenarioError(f"bad value {text!r} for setting {name!r}: expected {describe(kind)}")
    return converted


def _convert(text: str, kind: Any) -> Any:
    """The value, or None when ``text`` does not fit ``kind``."""
    if kind is str:
        return text
    if kind is bool:
        lowered = text.lower()
        return {"true": True, "false": False}.get(lowered)
    if kind is int:
        return _integer(text)
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    item = _tuple_item(kind)
    if item is not None:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        values = [_convert(part, item) for part in parts]
        return tuple(values) if values and all(v is not None for v in values) else None
    raise TypeError(f"settings of type {kind!r} cannot be given as text")


def _integer(text: str) -> int | None:
    """An integer written as digits or as an integral number such as ``1e6``, within the 32-bit range."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        if not math.isfinite(number) or not number.is_integer():
            return None
        value = int(number)
    return value if -INT_LIMIT - 1 <= value <= INT_LIMIT else None


def _tuple_item(kind: Any) -> Any:
    """``X`` for ``tuple[X, ...]``, else None."""
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


@functools.cache
def field_types(config_class: type) -> dict[str, Any]:
    """Field name -> declared type of a dataclass (string annotations resolved)."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def setting_names(config: Any, prefix: str = "") -> list[str]:
    """Every settable field path of a (nested) dataclass config, such as ``ppo.kl_coef``."""
    names = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            names += setting_names(value, f"{prefix}{f.name}.")
        else:
            names.append(f"{prefix}{f.name}")
    return names


def replace_fields(config: Any, texts: dict[str, str]) -> Any:
    """A copy of ``config`` with each ``path: text`` of ``texts`` converted by its field's type and set."""
    valid = setting_names(config)
    for name, text in texts.items():
        if name not in valid:
            raise ScenarioError(f"unknown setting {name!r}; valid: {', '.join(valid)}")
        config = _replace_path(config, name.split("."), name, text)
    return config


def _replace_path(config: Any, path: list[str], name: str, text: str) -> Any:
    head = path[0]
    if len(path) == 1:
        value = parse_value(name, text, field_types(type(config))[head])
    else:
        value = _replace_path(getattr(config, head), path[1:], name, text)
    return dataclasses.replace(config, **{head: value})


class Rule(NamedTuple):
    """A range a config field must lie in: ``ok(value)`` and the words that say so."""

    ok: Callable[[Any], bool]
    wording: str


def _integer_value(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real_value(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


POSITIVE_INT = Rule(lambda v: _integer_value(v) and v >= 1, "a positive integer")
NON_NEGATIVE_INT = Rule(lambda v: _integer_value(v) and v >= 0, "an integer, 0 or more")
POSITIVE = Rule(lambda v: _real_value(v) and v > 0, "a number above 0")
NON_NEGATIVE = Rule(lambda v: _real_value(v) and v >= 0, "a number 0 or more")
FINITE = Rule(_real_value, "a number")
FRACTION = Rule(lambda v: _real_value(v) and 0 <= v <= 1, "a number in [0, 1]")
POSITIVE_INTS = Rule(lambda v: isinstance(v, tuple) and bool(v) and all(POSITIVE_INT.ok(x) for x in v),
                     "one or more positive integers")
POSITIVE_NUMBERS = Rule(lambda v: isinstance(v, tuple) and bool(v) and all(POSITIVE.ok(x) for x in v),
                        "one or more numbers above 0")


def _finite(value: Any) -> bool:
    """False for a NaN or an infinity anywhere in ``value`` (a number or a tuple of them)."""
    if isinstance(value, tuple):
        return all(_finite(v) for v in value)
    return not _real_value(value) or math.isfinite(value)


def check_fields(config: Any, rules: dict[str, Rule]) -> None:
    """Raise a ScenarioError (a ValueError) naming the first field of ``config`` that is non-finite or out of range."""
    for name, rule in rules.items():
        value = getattr(config, name)
        if not _finite(value):
            raise ScenarioError(f"{name} must be a finite number, not {value!r}")
        if not rule.ok(value):
            raise ScenarioError(f"{name} must be {rule.wording}, not {value!r}")

