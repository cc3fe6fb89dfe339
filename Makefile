# tocsin — `make run` starts the pipeline on embedded defaults; `make test` runs the suite.
# Both set up what they need when it is missing: .venv with the Python packages, and the
# Debian packages the tests use (a real Prometheus Alertmanager).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := prometheus prometheus-alertmanager
ARGS ?=
# `make run` replays the newcomer demo on start; `make run DEMO=` starts empty.
DEMO ?= --demo
SOAK_RUNS ?= 10

.PHONY: run test soak chaos bench lint fmt deps-debian clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

deps-debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

run: $(STAMP)
	$(BIN)/tocsin up $(DEMO) $(ARGS)

test: $(STAMP) deps-debian
	$(BIN)/ruff check .
	$(BIN)/pytest

# The fault tests of `make test` (worker SIGKILLed and restarted, RocksDB across SIGKILL, two
# workers handing over partitions and timers, failure paths), SOAK_RUNS times in a row.
SOAK_TESTS ?= tests/e2e/test_crash_restart.py tests/e2e/test_durable_restart.py tests/e2e/test_two_workers.py \
	tests/integration/test_failure_paths.py tests/integration/test_notifications.py
soak: $(STAMP)
	for run in $$(seq $(SOAK_RUNS)); do $(BIN)/pytest -q -p no:cacheprovider $(SOAK_TESTS) || exit 1; done

# Fault scenarios, one JSON line each (not part of `make test`; about 45 minutes): hostile
# input, engine workers killed (3 seeds), a ClickHouse outage, a 30-minute soak.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.hostile_input
	$(BIN)/python -m tests.chaos.worker_kills
	$(BIN)/python -m tests.chaos.clickhouse_outage
	$(BIN)/python -m tests.chaos.soak

# Each prints one JSON line: the engine alone, each hot-path stage's Python cost per alert, the
# Kafka-direct path with raw aiokafka beside it, the HTTP path side by side with the Debian
# Alertmanager in the same run, latency at a steady 5k alerts/s seen by a plain consumer,
# restart recovery, the metric queries at 1M incidents, and the backtest.
bench: $(STAMP) deps-debian
	$(BIN)/python -m tests.bench.bench_engine
	$(BIN)/python -m tests.bench.bench_stages
	$(BIN)/python -m tests.bench.bench_pipeline
	$(BIN)/python -m tests.bench.bench_http
	$(BIN)/python -m tests.bench.bench_latency
	$(BIN)/python -m tests.bench.bench_restart
	$(BIN)/python -m tests.bench.bench_analytics
	$(BIN)/python -m tests.bench.bench_backtest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .tocsin .pytest_cache .ruff_cache .hypothesis
