import jax
import pytest

import specgym


@pytest.fixture(scope="session", params=specgym.env_ids())
def env_and_splits(request):
    env, splits = specgym.envs.make_splits(request.param)
    return request.param, env, splits


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)
