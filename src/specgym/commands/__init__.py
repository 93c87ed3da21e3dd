"""Subcommands that live beside the tool they drive.

Each module in this package exposes ``COMMAND``, a click command or group;
``specgym.cli`` adds every one it finds, so a new tool adds a module here and
never edits the CLI itself. Modules import their tool lazily inside the command
body where the tool is heavy, so ``specgym --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil


def tool_commands() -> list:
    """The ``COMMAND`` of every module in this package, in module-name order."""
    commands = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "COMMAND", None)
        if command is not None:
            commands.append(command)
    return commands
