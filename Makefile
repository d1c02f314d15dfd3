# Every target bootstraps .venv from uv.lock when it is missing or stale.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
SRC_DIRS := src codegen generated examples bench
PYTEST_ARGS ?=

.PHONY: help venv specs codegen codegen-check drift test soak lint types check bench demo webapp test-browser clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras
	@touch $@

venv: $(STAMP) ## Create or refresh .venv from uv.lock

specs: $(STAMP) ## Fill specs/ from ../shared/specs (or LIVE=1: download and update the lock)
	$(PY) -m codegen specs $(if $(LIVE),--live,)

codegen: specs ## Regenerate generated/ from the pinned specs
	$(PY) -m codegen generate

codegen-check: specs ## Fail when generated/ differs from a fresh generation
	$(PY) -m codegen check

drift: $(STAMP) ## Compare the pinned spec with the live one (skips when offline)
	$(PY) -m codegen drift-live

test: specs ## Run the test suite and codegen-check
	$(PY) -m pytest $(if $(CI),-n 2,) $(PYTEST_ARGS)
	$(PY) -m codegen check

soak: specs ## The fault-injection suite at length (SOAK_SUBMITS submits per client, default 20000)
	FAULTS_SUBMITS=$(or $(SOAK_SUBMITS),20000) $(PY) -m pytest tests/faults -q -s -p no:randomly

lint: $(STAMP) ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

types: $(STAMP) ## mypy --strict on src, codegen, generated, examples
	$(PY) -m mypy $(SRC_DIRS)

check: lint types test ## Lint, types, tests and codegen-check

bench: specs ## Run the benchmarks and print the measured ratios
	$(PY) -m bench

demo: specs ## Run the offline demo (LIVE=1: against the real service)
	$(PY) -m civitai_app_sdk.demo $(if $(LIVE),--live,)

webapp: specs ## Run the starter web app offline against the local services (prints the URL)
	$(PY) -m examples.webapp $(if $(PORT),--port $(PORT),)

test-browser: specs ## Drive the starter app in a real Chromium (screenshots in test-output/)
	$(PY) -m pytest -m browser tests/browser -p no:randomly $(PYTEST_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
