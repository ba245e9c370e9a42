# IAM Warden. `make demo` and `make test` work on a fresh machine: they create
# .venv with CPython 3.13 and install the pinned requirements first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's bin first: sam build's python3.13 builder and cfn-lint come from there.
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

# CPython 3.13: python3.13 on PATH if it runs, else a pyenv-installed 3.13.
PYTHON313 := $(shell for p in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

.PHONY: help venv test lint typecheck unit test-unit test-functional test-integration sam demo bench lock clean

help:
	@echo "make demo   deploy IAM Warden into an emulated AWS account (moto_server), attack it, watch it recover"
	@echo "make test   ruff, mypy, pytest, sam validate --lint, sam build"
	@echo "make test-unit | test-functional | test-integration   one layer of the pytest suite"
	@echo "make bench  core throughput, cold import, AWS calls and latency per remediation, pruner at 1,000 roles"

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON313)" || { echo "CPython 3.13 not found: install it (e.g. pyenv install 3.13) and retry" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# pytest-xdist spreads the tests over the cores (-n auto; PYTEST_WORKERS=0 runs them in this
# process). Each worker is a process of its own: it translates template.yaml once, and the
# servers tests start bind port 0, so workers never share state or race for a port. On two
# cores the whole suite took 65 s instead of 100 s; the unit tests alone are quicker in one
# process (12 s, against 18 s spent mostly starting workers).
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# The whole suite (what `make test` runs).
unit: venv
	$(PYTEST)

test-unit: venv
	$(BIN)/python -m pytest tests/unit

test-functional: venv
	$(PYTEST) tests/functional

test-integration: venv
	$(PYTEST) tests/integration

sam: venv
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/sam validate --lint --template member/template.yaml
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

test: lint typecheck unit sam

# The whole loop on an embedded AWS: see demo/run.py and the README's "The demo".
demo: venv
	$(BIN)/python -m demo

bench: venv
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build >/dev/null
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/enforcer.py
	PYTHONPATH=layers/core:. $(BIN)/python bench/bench_prune.py

# Re-resolve every pin from requirements-dev.in (needs the package index).
lock:
	rm -rf .venv-lock && $(PYTHON313) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements-dev.in
	.venv-lock/bin/pip freeze --exclude-editable | sed '/^iamwarden/d' > requirements-dev.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
