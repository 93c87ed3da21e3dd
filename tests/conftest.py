import os  # noqa: F401

from specgym._xla_flags import configure  # noqa: E402

configure()

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
