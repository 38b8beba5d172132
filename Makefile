# The two commands of the README: `make run` (the local stack) and `make test` (the suite, as CI runs it).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup system-deps bench

run: setup
	$(BIN)/kansa up

test: setup system-deps lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	bash scripts/install-system-deps.sh

bench: setup
	$(BIN)/kansa bench
