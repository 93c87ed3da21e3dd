# specgym: `make demo` runs the main job, `make test` runs the whole test suite (CI runs it too).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast gymnax1-test lint docs labs bench browser clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@ $(VENV)/.installed

# gymnax 1.0 changed the step's signature, and rejax (in the test venv above) needs gymnax before 1.0: the gymnax
# adapter's tests run once more in this small venv with gymnax 1.0 and nothing else of the test extras.
GYMNAX1 := .venv-gymnax1
$(GYMNAX1)/.installed: pyproject.toml
	$(PYTHON) -m venv $(GYMNAX1)
	$(GYMNAX1)/bin/python -m pip install --quiet --upgrade pip
	$(GYMNAX1)/bin/python -m pip install --quiet -e ".[gymnax]" "gymnax>=1.0,<1.1" "pytest>=8"
	touch $@

# Tests of optional packages skip where a package is missing, except here: SPECGYM_REQUIRE_EXTRAS makes them fail.
ADAPTER_TESTS := tests/test_gymnax_adapter.py
gymnax1-test: $(GYMNAX1)/.installed
	SPECGYM_REQUIRE_EXTRAS=1 SPECGYM_EXPECT_GYMNAX=1 $(GYMNAX1)/bin/python -m pytest -q -p no:cacheprovider $(ADAPTER_TESTS)

demo: $(VENV)/.installed
	$(BIN)/specgym list
	$(BIN)/specgym run boat-race
	$(BIN)/specgym run boat-race --fix reward=potential-shaping

# Page tests drive Debian's Chromium headless (Playwright runs it; it downloads no browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The README's test command and CI's (.ci/run): the docs site built strictly, the gymnax adapter's tests under
# gymnax 1.0, then the whole suite on two workers, including the checks marked slow: the failure-and-fix
# training checks and the labs in notebooks/, each run top to bottom at a tiny budget (31 minutes of tests, 35 in all, on an idle
# 2-core CPU, fresh clone). The slow checks are handed out first (tests/conftest.py), so the fast ones fill in and both
# workers end together.
test: $(VENV)/.installed-test browser lint docs gymnax1-test
	SPECGYM_REQUIRE_EXTRAS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=25

# The developer loop: everything but the slow checks (18 minutes on a shared 2-core CPU, less when idle).
test-fast: $(VENV)/.installed-test browser lint gymnax1-test
	SPECGYM_REQUIRE_EXTRAS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow" --durations=15

# Static checks, run before the tests: ruff (pyflakes, imports, pyupgrade, bugbear) and pyright (basic),
# both configured in pyproject.toml. A new finding fails the build.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/pyright --project . --pythonpath $(BIN)/python

# The documentation site (mkdocs, material theme) into site/ (git-ignored). --strict: a broken link or anchor,
# a page missing from the navigation or a nav entry without its page fails the build. The labs are rendered as
# stored in notebooks/ (docs/labs links there), never executed by the build.
docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The labs in notebooks/ at the budget their text describes, one after the other, with each one's time.
labs: $(VENV)/.installed-test
	SPECGYM_NOTEBOOK_BUDGET=full $(BIN)/python -m pytest -q -p no:xdist tests/test_notebooks.py -k runs_top_to_bottom --durations=0

# The env bench beside the reference grid env (bench/reference_grid.py); writes bench/results.json and .md.
bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(GYMNAX1) runs site .pytest_cache
