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


def train_in_subprocess(seeds: int, devices: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    out = subprocess.run([sys.executable, "-c", TRAIN_AND_PRINT, str(seeds)], env=env, capture_output=True,
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
