"""JAX/XLA settings that must be in place before JAX starts its CPU backend.

On CPU, XLA hands each computation to a worker pool; on these small 2-core
machines that pool sometimes loses a wake-up and a finished chunk of training is
never delivered (the process sleeps forever in ``block_until_ready``, every
worker idle). Running computations on the calling thread and turning off the
multi-threaded Eigen pool avoids it; both cost little for specgym's small
networks. A user's own explicit settings are left alone.
"""

import os

_EIGEN_FLAG = "--xla_cpu_multi_thread_eigen"


def configure() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if _EIGEN_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_EIGEN_FLAG}=false".strip()
    os.environ.setdefault("JAX_CPU_ENABLE_ASYNC_DISPATCH", "false")

    import jax

    if os.environ["JAX_CPU_ENABLE_ASYNC_DISPATCH"].lower() in ("false", "0"):
        jax.config.update("jax_cpu_enable_async_dispatch", False)
