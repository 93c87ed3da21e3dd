"""Compiled programs kept on disk between ``specgym`` commands.

Compilation is a large share of a short run (most of an imitation run, about
a quarter of ``specgym run boat-race``), and the same scenario, settings and
trainer compile to the same programs every time. JAX can keep compiled
programs in a directory; the ``specgym`` command points it at
``$XDG_CACHE_HOME/specgym/xla`` (``~/.cache/specgym/xla``), capped at 2 GiB
with the least recently used programs dropped first. Results are unchanged:
a program read from disk is the one that would have been compiled.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_BYTES = 2 * 1024**3
MIN_COMPILE_SECONDS = 0.5
"""Programs that compile faster than this are not worth a disk read."""


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "specgym" / "xla"


def use_disk_cache() -> None:
    """Turn the cache on for this process (before JAX compiles anything) unless the caller configured one.

    A directory already configured (``JAX_COMPILATION_CACHE_DIR``) wins; ``SPECGYM_NO_COMPILE_CACHE=1`` turns
    the cache off.
    """
    import jax

    configured = jax.config.jax_compilation_cache_dir  # pyright: ignore[reportAttributeAccessIssue] # set at run time
    if os.environ.get("SPECGYM_NO_COMPILE_CACHE") == "1" or configured:
        return
    jax.config.update("jax_compilation_cache_dir", str(default_directory()))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    if "JAX_COMPILATION_CACHE_MAX_SIZE" not in os.environ:
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
