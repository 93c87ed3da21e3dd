"""XLA settings that must be in place before JAX starts its CPU backend.

XLA's multi-threaded Eigen pool on CPU can wedge, leaving a finished
computation's result never delivered (the process waits forever in
``block_until_ready``). Long vmapped training runs hit it within minutes here,
so specgym turns that pool off unless the user set the flag themselves.
"""

import os

_FLAG = "--xla_cpu_multi_thread_eigen"


def configure() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if _FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}=false".strip()
