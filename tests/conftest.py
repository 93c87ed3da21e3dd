import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

import jax  # noqa: E402
import pytest  # noqa: E402

import specgym  # noqa: E402


@pytest.fixture(scope="session", params=specgym.env_ids())
def env_and_splits(request):
    env, splits = specgym.envs.make_splits(request.param)
    return request.param, env, splits


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)
