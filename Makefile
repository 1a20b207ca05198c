# fieldkit: one Makefile for a newcomer, a developer and CI.
# Needs only Python 3.11+ and make; everything else is installed into .venv from PyPI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test lint check format bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("fieldkit needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## Set up and run the main job: a synthetic visit day, throwaway HQ to what it received
	scripts/demo.sh

test: $(STAMP)  ## Set up and run the tests (one worker per core, a test file to a worker)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(STAMP)  ## Formatting, lint and import contracts
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check: lint test  ## Everything CI runs

bench: $(STAMP)  ## Run the benchmarks (docs/BENCHMARKS.md)
	$(BIN)/python -m bench.run_all

format: $(STAMP)  ## Reformat and apply safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:  ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
