"""Compile quickly what runs briefly, and for speed what runs long.

XLA:CPU's fusion emitters make a program run faster and compile slower. Most
programs of a run execute once or a few times - evaluation rollouts, level
draws, exact references, pictures - and for them compiling is most of the cost;
a training loop executes for minutes and pays back a slower compile many times.
So the ``specgym`` command (and the test suite) turn the fusion emitters off
for every program, and each training loop asks for them back through its own
``jax.jit(..., compiler_options=...)``: ``LONG_RUNNING`` where the loop always
runs long (the benchmarks), ``for_training(updates)`` where its length is the
caller's budget, so that a short training (a test's or a lab's budget) keeps
the quick compile. The imitation fits (a few hundred full-batch steps on small
networks) are short at every budget and keep it too: the imitation tests took
4% less CPU time so. Measured on a 2-core CPU, one
core each: the level-batching tests compiled in 45 CPU-s instead of 79, and the
cheese-corner training check paid 24 s of compiling instead of 33 with its
training as fast as before (without the per-loop option, training ran about a
fifth slower).

Either setting computes the same function; the numbers can differ in the last
bits of a float, as between any two compilers.
"""

from __future__ import annotations

import os

QUICK_FLAG = "--xla_cpu_use_fusion_emitters"

LONG_RUNNING = {"xla_cpu_use_fusion_emitters": True}
"""``compiler_options`` of a jitted training loop: compiled for speed whatever the process's default.
(Other backends ignore this CPU option.)"""


LONG_TRAINING_UPDATES = 300
"""Training updates (summed over the seeds trained at once) from which the full compile pays for itself. Measured on
one core, 4 seeds, the PPO chunk compiled both ways: boat-race at 73 updates cost the same CPU time either way (the
full compile 3 s longer, training 0.01 s per update and seed faster: even at 300), cheese-corner's egocentric network at 80
updates 3% less with the quick compile (8 s of compiling saved, 0.02 s per update and seed lost)."""


def for_training(updates: int) -> dict | None:
    """``compiler_options`` of a training loop that runs ``updates`` updates in all (summed over seeds): the full
    compile for a long training, the process's quick default for a short one."""
    return LONG_RUNNING if updates >= LONG_TRAINING_UPDATES else None


def compile_quickly_by_default() -> None:
    """Compile programs without XLA:CPU's fusion emitters unless ``XLA_FLAGS`` says otherwise.

    Must run before JAX starts its backend; the ``specgym`` command calls it first thing.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if QUICK_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {QUICK_FLAG}=false".strip()
