"""``--set name=value`` for the nested frozen-dataclass configs of the sequence steps.

Names are field paths (``ppo.kl_coef``, ``rm.hidden``, ``world.length``); a field
whose default is a tuple takes a comma-separated list (``comparisons=250,1000``).
A wrong name or value ends in one line naming the valid choices.
"""

from __future__ import annotations

import dataclasses

from specgym.errors import ScenarioError


def setting_names(cfg, prefix: str = "") -> list[str]:
    """Every settable field path of ``cfg``."""
    names = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            names += setting_names(value, f"{prefix}{f.name}.")
        else:
            names.append(f"{prefix}{f.name}")
    return names


def _convert(name: str, default, text):
    text = str(text)
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if isinstance(default, tuple):
            kind = type(default[0]) if default else int
            values = tuple(kind(item.strip()) for item in text.split(",") if item.strip())
            if not values:
                raise ScenarioError(f"setting {name} needs at least one value")
            return values
        return type(default)(float(text)) if isinstance(default, int) and "." not in text else type(default)(text)
    except ValueError:
        raise ScenarioError(f"setting {name} takes a {type(default).__name__}, got {text!r}") from None


def apply_settings(cfg, settings: dict):
    """A copy of ``cfg`` with each ``path=value`` of ``settings`` applied."""
    valid = setting_names(cfg)
    for name, text in settings.items():
        if name not in valid:
            raise ScenarioError(f"unknown setting {name!r}; valid: {', '.join(valid)}")
        cfg = _replace_path(cfg, name.split("."), name, text)
    return cfg


def _replace_path(cfg, path: list[str], name: str, text):
    head = path[0]
    current = getattr(cfg, head)
    if len(path) == 1:
        return dataclasses.replace(cfg, **{head: _convert(name, current, text)})
    return dataclasses.replace(cfg, **{head: _replace_path(current, path[1:], name, text)})
