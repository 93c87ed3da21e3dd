"""The specgym command keeps compiled programs on disk, unless told where else or not to."""

import os
import subprocess
import sys

COMPILE_SOMETHING = """
from specgym import compile_cache
compile_cache.use_disk_cache()
import jax, jax.numpy as jnp
print(float(jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T)(jnp.ones((8, 8))).sum()))
"""


def run_with(env_changes: dict, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION_CACHE", "SPECGYM_NO_COMPILE"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", **env_changes)
    subprocess.run([sys.executable, "-c", COMPILE_SOMETHING], env=env, check=True, timeout=300, capture_output=True)


def cached_files(directory) -> list:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


def test_programs_land_in_the_user_cache_directory(tmp_path):
    run_with({}, tmp_path)
    assert cached_files(tmp_path / "xdg" / "specgym" / "xla")


def test_an_explicit_directory_wins_and_the_switch_turns_it_off(tmp_path):
    run_with({"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "mine")}, tmp_path)
    assert cached_files(tmp_path / "mine") and not cached_files(tmp_path / "xdg")
    run_with({"SPECGYM_NO_COMPILE_CACHE": "1"}, tmp_path)
    assert not cached_files(tmp_path / "xdg")
