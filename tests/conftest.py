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


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's page tests (see tests/browser.py)."""
    from browser import BrowserSession

    session = BrowserSession()
    yield session
    session.close()


@pytest.fixture
def browser_page(browser):
    """A fresh page; ``page.problems`` lists console errors, page errors and failed requests."""
    page = browser.new_page()
    yield page
    page.close()
