# journeylab — two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# What the environment installs; environment.yml's pip line installs the same (tested).
INSTALL_SPEC := -e '.[test]'

.PHONY: demo test test-fast lab browser bench clean notebook-outputs

$(STAMP): pyproject.toml journeylab/__init__.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(INSTALL_SPEC)
	@touch $(STAMP)

## Run the whole sequence on the bundled sample study; results in reports/
demo: $(STAMP)
	$(BIN)/journeylab demo --out reports

## Every test: unit tests, nbval on every notebook, and the browser tests
test: $(STAMP) browser
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --doctest-modules tests notebooks journeylab

## The same without the real-browser tests (local convenience)
test-fast: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --doctest-modules -m "not browser" tests notebooks journeylab

## JupyterLab on the notebooks, with this environment's kernel
lab: $(STAMP)
	$(BIN)/journeylab lab

## Debian's chromium for the browser tests (test tools cannot download browsers here)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests ..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "Could not install chromium; browser tests will be skipped (CI fails them instead)."; }

## Store the outputs nbval compares (cells marked # NBVAL_CHECK_OUTPUT); run after editing a notebook
notebook-outputs: $(STAMP)
	$(BIN)/python tests/store_notebook_outputs.py

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports notebooks/outputs .pytest_cache
