# specgym: `make demo` runs the main job, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench browser clean

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

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=25

test-fast: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: $(VENV)/.installed
	$(BIN)/specgym bench

clean:
	rm -rf $(VENV) runs .pytest_cache
