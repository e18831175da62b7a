# Task runner: set-up, the test tiers, lint and types. `make help` lists the targets.
# Every target but `setup` runs from the checkout's .venv, which `make setup` makes from uv.lock.
# .ci/run calls these targets; `make` is on the project's machines (and .ci/run installs it where it is not).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# The uv that reads and writes uv.lock; README's set-up command names the same version (a test checks).
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
SOURCES := hetero_core functions hetero2_client infra_cdk tests benchmarks
# Extra pytest arguments, e.g. `make unit PYTEST_ARGS="-n 0 -k decoys"`.
PYTEST_ARGS ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help setup lock relock unit service api infra browser slow all lint format types smoke pre-commit

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## a fresh .venv with exactly what uv.lock pins (the dev extra: everything)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv sync --locked --inexact --extra dev
	# checkov pins old boto3/networkx/packaging: its own venv, from the same lock (tests/infra/test_checkov.py)
	UV_PROJECT_ENVIRONMENT=.venv-iac $(BIN)/uv sync --locked --no-install-project --only-group iac
	# axe-core for the dashboard's accessibility test, from npm's lock file (tests/browser/test_dashboard_axe.py)
	npm ci --prefix tests/browser/axe --ignore-scripts --no-audit --no-fund

lock:  ## re-lock after editing pyproject.toml's dependencies, and re-export the image/layer requirements
	scripts/lock.sh

relock:  ## the periodic job: newest versions in a temporary copy, then every check and test there
	scripts/relock-and-test.sh

unit:  ## the engine and its CLI: tests/unit, tests/functional
	$(BIN)/pytest tests/unit tests/functional $(PYTEST_ARGS)

service:  ## the pipeline on moto (state machine, handlers, service layer): tests/service
	$(BIN)/pytest tests/service $(PYTEST_ARGS)

api:  ## the HTTP API and the Python client over HTTP: tests/api, tests/client
	$(BIN)/pytest tests/api tests/client $(PYTEST_ARGS)

infra:  ## CDK synth, cdk-nag, cfn-lint, and `python -m infra_cdk.app` as cdk.json runs it: tests/infra
	$(BIN)/pytest tests/infra -m "slow or not slow" $(PYTEST_ARGS)

browser:  ## the report in headless Chromium: tests/browser
	$(BIN)/pytest tests/browser $(PYTEST_ARGS)

slow:  ## the slow suites only (large inputs, memory profiles, the CDK entry point)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

all:  ## every tier, as the README's test command runs them (slow suites excluded)
	$(BIN)/pytest $(PYTEST_ARGS)

lint:  ## ruff: rules and formatting, checked
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format:  ## ruff: fix what it can, format
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

types:  ## mypy --strict over the packages pyproject.toml lists
	$(BIN)/mypy

smoke:  ## the README's first command, into a temporary folder
	$(BIN)/hetero2 run --out "$$(mktemp -d)/example-pack" --quiet

pre-commit:  ## install the git hook (.pre-commit-config.yaml), then run it on every file
	$(BIN)/pre-commit install
	$(BIN)/pre-commit run --all-files
