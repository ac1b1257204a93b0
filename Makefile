# Trakt Review/Comment Analytics Pipeline — the two commands are `make demo` and `make test`.
# Both install what they need (uv from PyPI when missing, then the locked virtualenv) and are
# idempotent: a second run reuses .venv unless uv.lock or pyproject.toml changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .uv/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
export TRAKT_DATA_DIR ?= $(CURDIR)/data
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup browser postgres java demo pipeline forget retention backup restore spark-build test lint format replayer dbt-compile docs dagster slo health dash screenshots notebooks bench peers scale drill clean requirements

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.uv/bin/uv:
	@echo "uv not found on PATH: installing uv $(UV_VERSION) into .uv/ from PyPI"
	python3 -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

# --compile-bytecode: every library's .pyc is written once, here. Without them each process (dbt,
# the CLI, Dagster) compiles its imports again when Python may not write .pyc files
# (PYTHONDONTWRITEBYTECODE, a read-only venv): `dbt --version` took 7.7 s instead of 5.1 s.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: $(VENV)/.synced  ## create .venv from uv.lock

# The dashboard tests drive Debian's Chromium through Playwright (no browser download from the web).
browser:  ## install Debian's Chromium for the dashboard tests when it is missing
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium (dashboard tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# tests/infra runs Dagster's storage on a real PostgreSQL server from Debian's packages.
postgres:  ## install Debian's PostgreSQL server for tests/infra when missing
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql (tests/infra)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }

# The dbt spark target (tests/dbt/test_spark_target.py) needs a Java runtime for pyspark.
java:  ## install Debian's Java 17 runtime for the spark target when no java is on PATH
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing Debian's openjdk-17-jre-headless (spark target)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; }

demo: setup  ## run the main job end to end on the embedded defaults (replayer → ingest → dbt → metrics)
	$(PY) -m orchestration.demo

pipeline: setup  ## ingest + dbt build + publish against TRAKT_BASE_URL / TRAKT_DATA_DIR (.env)
	$(PY) -m orchestration.pipeline

forget: setup  ## erase one Trakt user from bronze, silver, gold and the snapshot: SLUG=<user> (a dry run; ARGS=--yes erases)
	@test -n "$(SLUG)" || { echo "make forget: set SLUG=<the user's Trakt slug> (and ARGS=--yes to erase)"; exit 2; }
	$(PY) -m orchestration.forget --user "$(SLUG)" $(ARGS)

retention: setup  ## prune bronze of what no model reads after DAYS=<n> days (else TRAKT_RETENTION_DAYS; a dry run, ARGS=--yes prunes)
	$(PY) -m orchestration.retention $(if $(DAYS),--days "$(DAYS)") $(ARGS)

backup: setup  ## refresh the backup of bronze, the checkpoints and the audit trails in DEST=<dir> (else TRAKT_BACKUP_DIR; another disk)
	$(PY) -m orchestration.backup create $(if $(DEST),--to "$(DEST)")

restore: setup  ## verify the backup in SRC=<dir> (else TRAKT_BACKUP_DIR) and copy it into an empty TRAKT_DATA_DIR
	$(PY) -m orchestration.backup restore $(if $(SRC),--from "$(SRC)")

spark-build: setup java  ## dbt build on a local SparkSession from the same bronze lake (Spark's state in $TRAKT_DATA_DIR/spark; ARGS=...)
	$(PY) -m orchestration.spark build $(ARGS)

# Two pytest-xdist workers by default (CI has two cores; most tests wait on a replayer, a child
# process or dbt). Modules stay whole on one worker, so module fixtures are built once.
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2
test: setup browser postgres java  ## run the whole test suite with coverage (ingest_trakt must stay at 80% or more)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope --cov --cov-report=term-missing:skip-covered --durations=25
	@echo "ingest_trakt line coverage (floor 80%):"
	@$(VENV)/bin/coverage report --include='ingest_trakt/*' --fail-under=80 | tail -1

lint: setup  ## ruff (lint + format check) and mypy, both must be clean
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

replayer: setup  ## serve the synthetic Trakt API on 127.0.0.1:8000 (ARGS="--titles 500 ...")
	$(VENV)/bin/trakt-replayer serve $(ARGS)

DBT := cd dbt && DBT_PROFILES_DIR=$(CURDIR)/dbt ../$(VENV)/bin/dbt

dbt-compile: setup  ## compile the dbt project (creates an empty bronze lake first if there is none)
	$(VENV)/bin/trakt-ingest init
	$(DBT) compile

docs: setup  ## generate the dbt docs site and serve it on 127.0.0.1:8080 (needs a built warehouse)
	$(DBT) docs generate
	$(DBT) docs serve --host 127.0.0.1 --port 8080

DAGSTER_PORT ?= 3000
dagster: setup  ## Dagster UI + daemon on 127.0.0.1:3000, DAGSTER_HOME=$TRAKT_DATA_DIR/dagster
	@mkdir -p "$(TRAKT_DATA_DIR)/dagster"
	@test -f "$(TRAKT_DATA_DIR)/dagster/dagster.yaml" || cp infra/dagster.local.yaml "$(TRAKT_DATA_DIR)/dagster/dagster.yaml"
	DAGSTER_HOME="$(TRAKT_DATA_DIR)/dagster" $(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(DAGSTER_PORT)

slo: setup  ## SLO attainment and error-budget burn from the recorded observations
	$(PY) -m observability.slo report

health: setup  ## pipeline health: freshness, completeness, contracts, rate-limit waits, runs, SLOs
	$(PY) -m observability.report

notebooks: setup  ## execute every notebook against $TRAKT_DATA_DIR (after make demo) into $TRAKT_DATA_DIR/notebooks
	$(PY) -m notebooks.run

screenshots: setup  ## PNGs of the dashboard pages into docs/img (from $(TRAKT_DATA_DIR)/published)
	$(PY) -m dash.screenshots --out docs/img

DASH_PORT ?= 8501
dash: setup  ## the dashboard on 127.0.0.1:$(DASH_PORT) (reads $(TRAKT_DATA_DIR)/published)
	$(VENV)/bin/streamlit run dash/app.py --server.address 127.0.0.1 --server.port $(DASH_PORT) \
	  --server.headless true --browser.gatherUsageStats false

bench: setup  ## run the benchmarks and print their figures (long: see bench/README.md)
	$(PY) bench/replayer.py
	$(PY) bench/ingest.py
	$(PY) bench/transform.py
	$(PY) bench/retention.py
	$(PY) bench/backup.py

scale: setup  ## scale curve 100 → 5,000 titles: ingest and dbt time, RSS, disk, with plots (bench/scale.py, ~15 min)
	$(PY) bench/scale.py $(ARGS)

drill: setup  ## reliability drills against the truth, compared with bench/baselines/ (ARGS="--short", "--only kill9"); docs/reliability.md
	$(PY) bench/drills.py $(ARGS)

peers: setup  ## peer benchmark: this client against dlt's rest_api on the same replayer (about 5 minutes)
	$(PY) bench/peers.py

requirements: setup  ## re-export requirements.txt from uv.lock (for pip users)
	$(UV) export --frozen --no-dev --no-hashes --no-emit-project -o requirements.txt >/dev/null

clean:  ## remove generated data and caches (keeps .venv)
	rm -rf data .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
