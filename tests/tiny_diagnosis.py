"""One tiny coin-run diagnosis per test process, shared by the CLI and the report tests.

Training and compiling dominate these tests, so the diagnosis is run once, through
the real command line (``specgym diagnose coin-run --json --only attribution``), on
a budget of a few updates, with its pictures; every test that needs a diagnosis
directory or the printed JSON reads this one.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile

from specgym.cli import main

TINY_SETTINGS = ["--set", "total_steps=1024", "--set", "num_envs=8", "--set", "num_steps=16"]
TINY = ["--seeds", "2", "--eval-episodes", "2", *TINY_SETTINGS]

_CACHE: dict = {}


def tiny_diagnosis() -> dict:
    """The ``--json`` document of the shared diagnosis (its directory holds the pictures)."""
    if "result" not in _CACHE:
        out = tempfile.mkdtemp(prefix="specgym-tiny-diagnosis-")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["diagnose", "coin-run", "--json", "--only", "attribution", "--out", out, *TINY])
        assert code == 0
        _CACHE["result"] = json.loads(printed.getvalue())
    return _CACHE["result"]
