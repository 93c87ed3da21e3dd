"""Errors a user can cause and correct: the command line prints them as one line and exits 2.

It sits at the bottom of the package so that every layer (envs, learners,
runners, the sequence world, the CLI) can raise it without importing upward.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A mistake the user can correct (unknown name, bad value, unwritable path); printed as one line."""
