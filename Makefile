# Two set-up commands for a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# Bytecode now, as a wheel install would: with PYTHONDONTWRITEBYTECODE set, every start
	# would otherwise compile the project's modules again (0.06 s of each replay's imports).
	$(BIN)/python -m compileall -q trader adapters risk >/dev/null
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/trader run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/inference.py
	$(BIN)/python bench/replay.py ../shared/data/eth_usdt_5m.csv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
