"""Brief programs compile quickly by default; a caller's own XLA setting wins; long training loops ask for speed."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

import specgym
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


def test_only_a_long_training_asks_for_the_full_compile():
    threshold = compile_options.LONG_TRAINING_UPDATES
    assert compile_options.for_training(1) is None
    assert compile_options.for_training(threshold - 1) is None
    assert compile_options.for_training(threshold) == compile_options.LONG_RUNNING
    # every scenario's default run (8 seeds) is long: the budgets bench/fixes.json measures keep the full compile
    for scenario_id in specgym.scenario_ids():
        trainer = specgym.get_scenario(scenario_id).setup({}, {}).trainer
        assert compile_options.for_training(trainer.num_updates * 8) == compile_options.LONG_RUNNING, scenario_id
