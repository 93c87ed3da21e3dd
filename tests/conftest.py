import os
import resource
import time
from pathlib import Path

# Many tests compile the same programs (the same env and trainer, in this process, in the
# other worker, or in a `specgym` subprocess). A compilation cache on disk, shared by all of
# them through the environment, compiles each program once per machine instead of once per test.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "jax-tests"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
# The tests' trainings are short, so compiling is much of their cost: LLVM level 2 instead of XLA's default 3
# compiles PPO programs in about two thirds of the time (coin-run 18-20 s against 24-27 s) and runs them at most
# about a tenth slower (coin-run 22-23k against 26k steps/s; boat-race the same), and a 300k-step cheese-corner run
# costs 67 CPU-seconds against 92-98. Passed on to the `specgym` subprocesses tests start.
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=2".strip()


def _pin_worker_to_its_own_cores() -> None:
    """Give each pytest-xdist worker cores of its own (every n-th core for n workers) when there are enough.

    XLA's thread pools let one process use every core; two workers doing so on two cores contend for them and
    spend CPU time on it: the nail-factory check took 88 CPU-s with both cores and 77 pinned to one. Pinned
    before JAX starts, every thread the worker starts (XLA's, a ``specgym`` subprocess's) stays on its cores.
    """
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and hasattr(os, "sched_setaffinity")):
        return
    cores, workers = sorted(os.sched_getaffinity(0)), int(count)
    if 0 < workers <= len(cores):
        os.sched_setaffinity(0, set(cores[int(worker[2:]) % workers::workers]))


_pin_worker_to_its_own_cores()

# As the `specgym` command does: programs that run briefly compile without XLA:CPU's fusion emitters, training loops
# with them (specgym/compile_options.py); compiling was 43% of the suite's CPU time without it. Imported after the
# settings above (importing specgym imports JAX, which reads them) and before JAX starts its backend.
from specgym import compile_options

compile_options.compile_quickly_by_default()

import jax  # after the settings above: it reads them when imported
import pytest

import specgym
from specgym.feedback.store import sqlite_url


@pytest.fixture(scope="session", params=specgym.env_ids())
def env_and_splits(request):
    """Each env with its two evaluation splits (a procedural ``train_levels`` belongs to the wrapper that draws
    from it, checked in test_procedural.py)."""
    env, splits = specgym.envs.make_splits(request.param)
    return request.param, env, {name: splits[name] for name in ("train", "deploy")}


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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Put the slow training checks first, the rest after in their usual order.

    Workers take tests in this order as they free up, so the long checks start at once
    and the many short tests fill in around them: both workers end within a short test of
    each other, where a long check collected last would leave one worker running it alone.
    """
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("slow") is None)


# The label databases the store and web-app tests run on: SQLite always, PostgreSQL when
# SPECGYM_TEST_POSTGRES_URL names a scratch database (schemas specgym_test_* in it) and psycopg is installed.
POSTGRES_URL = os.environ.get("SPECGYM_TEST_POSTGRES_URL")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "labels.sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, db_path):
    """A fresh, empty label database of each backend (on PostgreSQL, a schema per test worker)."""
    if request.param == "sqlite":
        return sqlite_url(db_path)
    if not POSTGRES_URL:
        pytest.skip("set SPECGYM_TEST_POSTGRES_URL to a scratch PostgreSQL database to test that backend")
    psycopg = pytest.importorskip("psycopg")
    schema = f"specgym_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        db.execute(f"DROP TABLE IF EXISTS {schema}.specgym_labels")
    return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"


# SPECGYM_TEST_SUMMARY_LOG=FILE appends the summary of every ``run_scenario`` call (one JSON line, with the test's id),
# so that a check's margins over its thresholds can be read before its budget is reconsidered. Wrapped before the
# test modules import it.
SUMMARY_LOG = os.environ.get("SPECGYM_TEST_SUMMARY_LOG")
if SUMMARY_LOG:
    import functools
    import json

    import specgym.run

    _unlogged_run_scenario = specgym.run.run_scenario

    @functools.wraps(_unlogged_run_scenario)
    def _logged_run_scenario(*args, **kwargs):
        summary = _unlogged_run_scenario(*args, **kwargs)
        with open(SUMMARY_LOG, "a") as log:
            log.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "summary": summary},
                                 default=str) + "\n")
        return summary

    specgym.run.run_scenario = _logged_run_scenario


# SPECGYM_TEST_CPU_LOG=FILE appends one JSON line per test: its CPU seconds (this process's threads and the
# subprocesses it waited for), wall seconds, and the seconds this process spent compiling (XLA's backend compile,
# a read from the disk cache included; not the subprocesses'), for deciding where the suite's time goes.
CPU_LOG = os.environ.get("SPECGYM_TEST_CPU_LOG")
_compile_seconds = [0.0]


def _count_compiles(event: str, duration: float, **_) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        _compile_seconds[0] += duration


if CPU_LOG:
    jax.monitoring.register_event_duration_secs_listener(_count_compiles)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not CPU_LOG:
        yield
        return
    cpu, wall, compiling = _cpu_seconds(), time.perf_counter(), _compile_seconds[0]
    yield
    import json

    with open(CPU_LOG, "a") as log:
        log.write(json.dumps({"test": item.nodeid, "cpu": round(_cpu_seconds() - cpu, 2),
                              "wall": round(time.perf_counter() - wall, 2),
                              "compile": round(_compile_seconds[0] - compiling, 2)}) + "\n")
