"""A part of a result that does not apply says why, in place of the number it cannot give.

Some parts of a diagnosis are undefined for some scenarios: a detector needs
hacking and non-hacking policies to be scored at all, a lever without a
documented fix has nothing to try. An empty field or a missing number reads as a
fault; ``{"applies": false, "why": "<sentence>"}`` says what the user needs to
know, and every reader prints the sentence.
"""

from __future__ import annotations

import math
from typing import Any


def not_applicable(why: str) -> dict[str, Any]:
    """The marker of a part or a number that does not apply, with the one sentence that says why."""
    return {"applies": False, "why": why}


def applies() -> dict[str, Any]:
    """The marker of a part that does apply (it carries its own numbers)."""
    return {"applies": True}


def is_not_applicable(value) -> bool:
    """True for a :func:`not_applicable` marker (or a section carrying one)."""
    return isinstance(value, dict) and value.get("applies") is False and isinstance(value.get("why"), str)


def number_or_why(value, digits: int = 2) -> str:
    """A number for a table, or the sentence that says why there is none."""
    if is_not_applicable(value):
        return f"does not apply: {value['why']}"
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"
