# specgym: `make demo` runs the main job, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all bench browser clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/specgym list
	$(BIN)/specgym run boat-race
	$(BIN)/specgym run boat-race --fix reward=potential-shaping

# Page tests drive Debian's Chromium headless (Playwright runs it; it downloads no browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The suite CI runs: everything but the agent-training checks marked slow.
test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow" --durations=15

# Everything, including the failure-and-fix training checks of every scenario and method (tens of minutes).
test-all: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=25

bench: $(VENV)/.installed
	$(BIN)/specgym bench

clean:
	rm -rf $(VENV) runs .pytest_cache
