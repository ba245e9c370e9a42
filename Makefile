# IAM Warden. `make demo` and `make test` work on a fresh machine: they create
# .venv with CPython 3.13 and install the pinned requirements first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's bin first: sam build's python3.13 builder and cfn-lint come from there. sam's
# python workflow validates the first `python3.13` (or python3/python) on PATH that really is
# 3.13; a pyenv shim for a 3.13 that is installed but not the active version fails that check
# ("Binary validation failed for python"), so sam run outside make needs this PATH too.
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

# CPython 3.13: python3.13 on PATH if it runs, else a pyenv-installed 3.13.
PYTHON313 := $(shell for p in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

# samconfig.toml environment for build and deploy (default, prod).
ENV ?= default
STACK ?= iamwarden
SAMCONFIG ?= $(CURDIR)/samconfig.toml
# Non-empty when ENV has not been deployed with --guided yet (the guided deploy writes s3_prefix).
FIRST_DEPLOY = $(shell $(BIN)/python -c 'import sys, tomllib; \
	config = tomllib.load(open(sys.argv[1], "rb")).get(sys.argv[2], {}); \
	print("" if config.get("deploy", {}).get("parameters", {}).get("s3_prefix") else "yes")' "$(SAMCONFIG)" "$(ENV)")

.PHONY: help venv test lint typecheck unit test-unit test-functional test-integration sam build deploy adopt-tables demo bench browser lock clean

help: ## list every target and what it does (generated from these comments)
	@awk -F ':.*## ' '/^[A-Za-z0-9_.-]+:.*## / { printf "make %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON313)" || { echo "CPython 3.13 not found: install it (e.g. pyenv install 3.13) and retry" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.installed ## create .venv (CPython 3.13) with the pinned requirements and iamwarden editable

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy (strict)
	$(BIN)/mypy

# pytest-xdist spreads the tests over the cores (-n auto; PYTEST_WORKERS=0 runs them in this
# process). Each worker is a process of its own: it translates template.yaml once, and the
# servers tests start bind port 0, so workers never share state or race for a port. On two
# cores the whole suite took 65 s instead of 100 s; the unit tests alone are quicker in one
# process (12 s, against 18 s spent mostly starting workers).
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

unit: venv browser ## the whole pytest suite (unit, functional, integration), on every core
	$(PYTEST)

test-unit: venv ## the unit tests (no AWS, no servers), in one process
	$(BIN)/python -m pytest tests/unit

test-functional: venv ## the functional tests (moto in-process)
	$(PYTEST) tests/functional

test-integration: venv browser ## the integration tests (moto_server, the template, sam build, the demo, Chromium)
	$(PYTEST) tests/integration

browser: ## install headless Chromium (Debian's package) for the backtest report's browser test, if missing
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing chromium (apt-get) for the HTML report's browser test"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; \
		else sudo apt-get install -y chromium || { sudo apt-get update && sudo apt-get install -y chromium; }; fi; }

sam: venv ## sam validate --lint (both templates) and sam build
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/sam validate --lint --template member/template.yaml
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

test: lint typecheck unit sam ## everything CI runs: lint, typecheck, unit, sam

build: venv ## sam build into .aws-sam/build (ENV=prod for the prod environment's settings)
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build --config-env $(ENV) --config-file $(SAMCONFIG)

# The first deploy of an environment asks for the stack's parameters (sam deploy --guided)
# and saves the answers to samconfig.toml; later deploys reuse them.
deploy: build ## deploy to AWS: guided the first time for ENV, then with samconfig.toml (ENV=prod)
	$(if $(FIRST_DEPLOY),@echo "First deploy of environment $(ENV): sam deploy --guided saves your answers to samconfig.toml")
	$(BIN)/sam deploy $(if $(FIRST_DEPLOY),--guided )--template-file .aws-sam/build/template.yaml --config-env $(ENV) --config-file $(SAMCONFIG)

# After `sam delete`, the retained tables keep their names: adopt them into the new stack first.
adopt-tables: venv ## redeploy after a removal: import the retained audit and prune-state tables (prints the steps)
	$(BIN)/python tools/adopt_tables.py --stack-name $(STACK) --region $(AWS_DEFAULT_REGION)

# The EventBridge rules, mode parameters and remediation grants in the templates, and the README's guardrail
# tables, from the guardrail registry (tests/unit/test_generated.py fails while they are stale).
.PHONY: generate
generate: venv ## the templates' rules, parameters and grants and the README's guardrail tables, from the registry
	$(BIN)/python tools/generate.py

# The whole loop on an embedded AWS: see demo/run.py and the README's "The demo".
demo: venv ## deploy IAM Warden into an emulated AWS account (moto_server), attack it, watch it recover
	$(BIN)/python -m demo

# Cloud Custodian, the peer the policy analysis is compared with, lives in a virtual environment of
# its own: it is never a dependency of IAM Warden.
BENCH_VENV := .bench-venv
C7N_VERSION := 0.9.53
$(BENCH_VENV)/.installed:
	@test -n "$(PYTHON313)" || { echo "CPython 3.13 not found" >&2; exit 1; }
	test -x $(BENCH_VENV)/bin/python || $(PYTHON313) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check c7n==$(C7N_VERSION)
	touch $@

bench: venv $(BENCH_VENV)/.installed ## core throughput, cold import, AWS calls and latency per remediation, pruner at 1,000 roles, policy analysis against Cloud Custodian, a 2,000-event burst
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build >/dev/null
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/enforcer.py
	PYTHONPATH=layers/core:. $(BIN)/python bench/bench_prune.py
	PYTHONPATH=layers/core:. $(BIN)/python bench/bench_backtest.py
	$(BENCH_VENV)/bin/python bench/bench_custodian.py
	PYTHONPATH=layers/core:. $(BIN)/python bench/bench_load.py
	PYTHONPATH=layers/core:. $(BIN)/python bench/bench_context.py

# Re-resolve every pin from requirements-dev.in (needs the package index).
lock: ## re-resolve every pin in requirements-dev.txt from requirements-dev.in
	rm -rf .venv-lock && $(PYTHON313) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements-dev.in
	.venv-lock/bin/pip freeze --exclude-editable | sed '/^iamwarden/d' > requirements-dev.txt
	rm -rf .venv-lock

clean: ## remove .venv, .bench-venv, .aws-sam and the tool caches
	rm -rf $(VENV) $(BENCH_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
