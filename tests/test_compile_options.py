"""Brief programs compile quickly by default; a caller's own XLA setting wins; training loops ask for speed."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from specgym import compile_options


def test_the_quick_default_is_added_once_and_a_callers_setting_wins(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    compile_options.compile_quickly_by_default()
    compile_options.compile_quickly_by_default()
    assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=2 --xla_cpu_use_fusion_emitters=false"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_fusion_emitters=true")
    compile_options.compile_quickly_by_default()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_use_fusion_emitters=true"


def test_a_long_running_loop_computes_what_the_quick_compile_computes():
    def loop(x):
        return jax.lax.fori_loop(0, 50, lambda i, v: jnp.tanh(v @ v.T) @ v + i, x)

    x = jax.random.normal(jax.random.PRNGKey(0), (8, 8))
    quick = jax.jit(loop)(x)
    fast = jax.jit(loop, compiler_options=compile_options.LONG_RUNNING)(x)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(quick), rtol=1e-5, atol=1e-5)
