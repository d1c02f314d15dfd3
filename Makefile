# Every target bootstraps .venv from uv.lock when it is missing or stale.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
DOCS_STAMP := $(VENV)/.synced-docs
TRIO_STAMP := $(VENV)/.synced-trio
SYNC := $(UV) sync --frozen --all-extras --compile-bytecode
# uv compiles site-packages; the project's own packages are installed editable, so their
# bytecode is written here (imports cannot write it when PYTHONDONTWRITEBYTECODE is set).
BYTECODE := $(PY) -m compileall -q src/civitai_app_sdk generated/civitai_app_sdk_generated
SRC_DIRS := src codegen generated examples bench
# The official TypeScript packages: the interop tests and the Node row of the benchmarks.
NODE_STAMPS := tests/auth/node/node_modules/.installed tests/local/node/node_modules/.installed
PYTEST_ARGS ?=

.PHONY: help venv specs codegen codegen-check drift test lint types check bench demo clean \
	docs dist wheel-smoke test-matrix webapp test-browser soak node-deps

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# __init__.py holds the version, which the installed metadata must repeat.
$(STAMP): uv.lock pyproject.toml src/civitai_app_sdk/__init__.py | $(UV)
	$(SYNC)
	@$(BYTECODE)
	@touch $@

# The docs group on top of the default one (--inexact keeps what the default sync installed).
$(DOCS_STAMP): $(STAMP)
	$(SYNC) --group docs --inexact
	@touch $@

# trio for its tests only: httpcore imports it in every process where it is installed.
$(TRIO_STAMP): $(STAMP)
	$(SYNC) --group trio --inexact
	@touch $@

venv: $(STAMP) ## Create or refresh .venv from uv.lock

# Without npm, or offline, the stamp is not written: the checks that need them skip, and
# the next run tries again.
%/node_modules/.installed: %/package-lock.json
	@if ! command -v npm >/dev/null; then echo "npm not found: the Node interop checks skip"; \
	elif (cd $* && npm ci --silent --no-audit --no-fund --prefer-offline --fetch-retries=1 \
		--fetch-timeout=20000); then touch $@; \
	else echo "npm ci failed in $*: its Node interop checks skip"; fi

node-deps: $(NODE_STAMPS) ## Install the official TypeScript packages the Node checks use

specs: $(STAMP) ## Fill specs/ from ../shared/specs, else the pinned URLs (LIVE=1: the live ones)
	$(PY) -m codegen specs $(if $(LIVE),--live,)

codegen: specs ## Regenerate generated/ from the pinned specs
	$(PY) -m codegen generate
	@$(BYTECODE)

# codegen-check and drift skip without the specs (offline, no ../shared): fill them optionally.
codegen-check: $(STAMP) ## Fail when generated/ differs from a fresh generation
	$(PY) -m codegen specs --optional
	$(PY) -m codegen check

drift: $(STAMP) ## Compare the pinned spec with the live one (skips when offline)
	$(PY) -m codegen specs --optional
	$(PY) -m codegen drift-live

test: $(TRIO_STAMP) node-deps ## Run the test suite and codegen-check (spec tests skip without specs)
	$(PY) -m codegen specs --optional
	$(PY) -m pytest $(if $(CI),-n 2,) $(PYTEST_ARGS)
	$(PY) -m codegen check

soak: $(STAMP) ## The fault-injection suite at length (SOAK_SUBMITS submits per client, default 20000)
	FAULTS_SUBMITS=$(or $(SOAK_SUBMITS),20000) $(PY) -m pytest tests/faults -q -s -p no:randomly

lint: $(STAMP) ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

types: $(STAMP) ## mypy --strict on src, codegen, generated, examples, bench
	$(PY) -m mypy $(SRC_DIRS)

check: lint types test docs wheel-smoke ## Lint, types, tests, codegen-check, docs and the wheel

docs: $(DOCS_STAMP) ## Build the documentation site into site/ (offline, --strict)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

dist: $(STAMP) ## Build the sdist and wheel into dist/ and check them
	rm -rf dist
	$(UV) build --quiet --out-dir dist
	$(PY) -m twine check --strict dist/*
	$(PY) .ci/check_dist.py dist

# Every Python >= 3.11 on this machine, unless SMOKE_PYTHON names one.
SMOKE_PYTHON ?=
wheel-smoke: dist ## Install the wheel in fresh venvs (each Python >= 3.11, or SMOKE_PYTHON) and run it
	@pythons="$(or $(SMOKE_PYTHON),$$(.ci/pythons))" && set -- $$pythons && [ $$# -gt 0 ] \
		|| { echo "wheel-smoke: no Python >= 3.11 found; name one with SMOKE_PYTHON=" >&2; exit 1; }; \
	for python in "$$@"; do .ci/wheel-smoke "$$python" dist || exit 1; done

test-matrix: $(STAMP) dist ## The test suite and the wheel smoke test on every Python >= 3.11 here
	.ci/test-matrix

# Timed in the default environment: an exact sync takes out what test and docs added
# (trio above all, which every process that opens an httpx client would import).
bench: specs node-deps ## Run the benchmarks and print the measured ratios
	$(SYNC) --quiet
	@rm -f $(TRIO_STAMP) $(DOCS_STAMP)
	@$(BYTECODE)
	$(PY) -m bench

demo: $(STAMP) ## Run the offline demo (LIVE=1: against the real service)
	$(PY) -m civitai_app_sdk.demo $(if $(LIVE),--live,)

webapp: $(STAMP) ## Run the starter web app offline against the local services (prints the URL)
	$(PY) -m examples.webapp $(if $(PORT),--port $(PORT),)

test-browser: $(STAMP) ## Drive the starter app in a real Chromium (screenshots in test-output/)
	CIVITAI_BROWSER_TESTS=1 $(PY) -m pytest -m browser tests/browser -p no:randomly $(PYTEST_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .venv-matrix .tools tests/auth/node/node_modules tests/local/node/node_modules .mypy_cache .ruff_cache .pytest_cache site dist
