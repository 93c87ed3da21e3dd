"""Seeds sharded over host devices compute what one device computes."""

import json
import os
import subprocess
import sys

import numpy as np

TRAIN_AND_PRINT = """
import json, sys
import jax
from specgym import seed_parallel
from specgym.run import train_seeds
from specgym.scenarios import get

seeds = int(sys.argv[1])
setup = get("boat-race").setup({"total_steps": 4 * 64 * 32}, {})
trained = train_seeds(setup, seeds, jax.random.PRNGKey(3), progress=False)
sharding = seed_parallel.seed_sharding(seeds)
print(json.dumps({
    "devices": len(jax.local_devices()),
    "shards": 0 if sharding is None else len(sharding.device_set),
    "shards_for_3_seeds": 0 if seed_parallel.seed_sharding(3) is None else 3,
    "specified": [list(map(float, row)) for row in trained.history["specified"]],
    "weights": float(jax.numpy.abs(trained.runner.net["actor"][0]["w"]).sum()),
}))
"""


RLHF_AND_PRINT = """
import json
import jax
from specgym.feedback import evaluators as ev
from specgym.learn import reward_model as rm, rlhf
from specgym.scenarios import get

setup = get("glitch-walker").setup(
    {"total_steps": 2 * 8 * 32, "num_envs": 8, "hidden": (16,), "update_epochs": 1, "num_minibatches": 1}, {})
cfg = rlhf.RLHFConfig(labels=(20, 40), labels_per_round=20, clips_per_round=16, candidates_per_query=2,
                      reward_model=rm.RewardModelConfig(hidden=(16,), steps=20))
result = rlhf.train_rlhf(setup.env, setup.train_params, setup.trainer, cfg, ev.oracle(setup.env), 2,
                         jax.random.PRNGKey(0))
print(json.dumps({"devices": len(jax.local_devices()),
                  "rm_loss": [list(map(float, row["rm_loss"])) for row in result.history],
                  "weights": float(jax.numpy.abs(result.agents["runner"].net["actor"][0]["w"]).sum())}))
"""


def train_in_subprocess(seeds: int, devices: int, script: str = TRAIN_AND_PRINT) -> dict:
    # the suite's XLA flags (tests/conftest.py: compile quickly) kept, the device count added
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    env = dict(os.environ, XLA_FLAGS=flags)
    out = subprocess.run([sys.executable, "-c", script, str(seeds)], env=env, capture_output=True,
                         text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sharded_seeds_train_like_one_device():
    one = train_in_subprocess(seeds=4, devices=1)
    two = train_in_subprocess(seeds=4, devices=2)
    assert (one["devices"], one["shards"]) == (1, 0)
    assert (two["devices"], two["shards"]) == (2, 2)
    np.testing.assert_allclose(two["specified"], one["specified"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(two["weights"], one["weights"], rtol=1e-4)
    assert two["shards_for_3_seeds"] == 0  # a seed count the devices do not divide stays on one device


def test_rlhf_agents_spread_over_devices_learn_like_one_device():
    one = train_in_subprocess(seeds=2, devices=1, script=RLHF_AND_PRINT)
    two = train_in_subprocess(seeds=2, devices=2, script=RLHF_AND_PRINT)
    assert (one["devices"], two["devices"]) == (1, 2)
    np.testing.assert_allclose(two["rm_loss"], one["rm_loss"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(two["weights"], one["weights"], rtol=1e-4)
