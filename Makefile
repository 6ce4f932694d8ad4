# njforecast — two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= experiments/neijiang-baseline/config.toml

.PHONY: help install run test data lint clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m njforecast data build >/dev/null  # parse data/raw once into data/processed (a cache)
	touch $(STAMP)

install: $(STAMP)  ## create .venv (if missing) and install the package with test tools

data: $(STAMP)  ## rebuild data/processed from data/raw (deterministic)
	$(PY) -m njforecast data build

run: $(STAMP)  ## the main job on the bundled Neijiang data
	$(PY) -m njforecast run $(CONFIG)

test: $(STAMP)  ## the test suite
	$(PY) -m pytest

lint: $(STAMP)  ## static checks: ruff and the import contracts (pyproject.toml [tool.importlinter])
	$(PY) -m ruff check njforecast tests
	$(VENV)/bin/lint-imports

clean:  ## remove build outputs (keeps .venv)
	rm -rf data/processed/*.csv outputs .pytest_cache
