# Tandem: the two commands a fresh clone needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tandem-installed
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
SERVER_CONFIG := jupyter-config/jupyter_server_config.d/tandem.json

.PHONY: demo test lint bench browser venv clean help

help:
	@echo "make demo   - set up .venv and run the synthetic demo cohort end to end"
	@echo "make test   - set up .venv (and Chromium) and run lint + the whole test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks against papermill / nbgrader"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml $(SERVER_CONFIG) | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	@# An editable install skips pyproject's data-files (setuptools): put Tandem's server
	@# extension config where a wheel install puts it, so Jupyter enables it here too.
	install -D -m 644 $(SERVER_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/tandem.json
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/tandem demo --out demo-cohort

browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM). Install it, e.g.:"; \
		echo "    sudo apt-get install -y chromium"; \
		echo "or point CHROMIUM=/path/to/chromium at an existing one."; \
		exit 1; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks
	$(BIN)/ruff format --check toolkit tests benchmarks
	$(BIN)/mypy

test: $(STAMP) browser lint
	TANDEM_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) demo-cohort build *.egg-info
