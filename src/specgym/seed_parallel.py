"""Seeds spread over the CPU's cores.

XLA runs one program on one CPU device with a thread pool that small
networks cannot keep busy: PPO on a 2-core machine used about 1.5 cores.
Presented as several host devices (one per core), the seeds axis of a
vmapped training run can be sharded across them, each device working through
its own seeds on its own core. Each seed's computation is unchanged; only
where it runs differs. On a GPU (one device) nothing changes.
"""

from __future__ import annotations

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MAX_HOST_DEVICES = 8
_FLAG = "--xla_force_host_platform_device_count"


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def use_cpu_cores() -> None:
    """Ask XLA for one host device per core; must run before JAX starts its backend.

    The ``specgym`` command calls it first thing; in Python, call it before the
    first JAX computation. An explicit device count already in ``XLA_FLAGS`` is kept.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    cores = min(usable_cores(), MAX_HOST_DEVICES)
    if _FLAG in flags or cores < 2:
        return
    os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}={cores}".strip()


def seed_sharding(seeds: int) -> NamedSharding | None:
    """Sharding of a leading seeds axis over as many devices as divide ``seeds``; None for one device."""
    devices = jax.local_devices()
    count = max(n for n in range(1, len(devices) + 1) if seeds % n == 0)
    if count < 2:
        return None
    return NamedSharding(Mesh(np.array(devices[:count]), ("seeds",)), PartitionSpec("seeds"))


def jit_over_seeds(fn, seeds: int, compiler_options: dict | None = None):
    """``jax.jit(fn)`` whose outputs (every leaf led by the seeds axis) are split across devices."""
    sharding = seed_sharding(seeds)
    if sharding is None:
        return jax.jit(fn, compiler_options=compiler_options)
    return jax.jit(fn, out_shardings=sharding, compiler_options=compiler_options)


def gather(tree):
    """The same values on the default device, for code that mixes them with unsharded arrays."""
    return jax.device_put(tree, jax.local_devices()[0])
