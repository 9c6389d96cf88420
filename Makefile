# Tandem: the two commands a fresh clone needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tandem-installed
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
SERVER_CONFIG := jupyter-config/jupyter_server_config.d/tandem.json

.PHONY: demo test lint bench browser node hub hub-down venv clean help

help:
	@echo "make demo   - set up .venv and run the synthetic demo cohort end to end"
	@echo "make test   - set up .venv (and Chromium) and run lint + the whole test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks against papermill / nbgrader"
	@echo "make hub    - (root) a trial JupyterHub on 127.0.0.1 for a small cohort; 'make hub-down' stops it"

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

# The hub's proxy (configurable-http-proxy) is an npm package: Node.js and npm, like Chromium.
node:
	@if command -v npm >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Node.js and npm for the hub's proxy (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	else \
		echo "Note: no npm here. The hub (make hub, and the hub tests, which also need root)"; \
		echo "needs Node.js and npm for its proxy: sudo apt-get install -y nodejs npm"; \
	fi
	@if [ "$$(id -u)" = "0" ] && ! /usr/bin/python3 -c "import ensurepip" 2>/dev/null; then \
		echo "Installing python3-venv for the hub's environment (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	fi

HUB_COHORT ?= hub-cohort
hub: $(STAMP) node
	@test -f $(HUB_COHORT)/cohort.yml || $(BIN)/tandem cohort init $(HUB_COHORT) \
		--roster deploy/jupyterhub/trial-roster.csv --pairs deploy/jupyterhub/trial-pairs.csv \
		--name "Hub trial"
	$(BIN)/tandem hub up $(HUB_COHORT)

hub-down: $(STAMP)
	$(BIN)/tandem hub down

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks
	$(BIN)/ruff format --check toolkit tests benchmarks
	$(BIN)/mypy

test: $(STAMP) browser node lint
	TANDEM_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) demo-cohort $(HUB_COHORT) build *.egg-info
