"""Optional packages in tests: skipped where absent, except under ``make test``, which installs them all.

``make test`` sets ``SPECGYM_REQUIRE_EXTRAS=1``: there an absent package is an install step gone wrong, and its
tests fail instead of skipping unseen.
"""

from __future__ import annotations

import importlib
import os

import pytest


def need(module: str):
    """``module`` imported, or the test skipped (failed under ``make test``) where it is not installed."""
    if os.environ.get("SPECGYM_REQUIRE_EXTRAS") == "1":
        return importlib.import_module(module)
    return pytest.importorskip(module)
