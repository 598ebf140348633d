# Set-up and everyday commands. `make synth` and `make test` install what
# they need first (a fresh machine needs nothing but python3, npm and the
# terraform CLI with its offline provider mirror).
#
# Every install is hash-checked against a committed lock and uses the package
# index the machine's pip and npm are configured with (no index in the repo):
#   tooling.lock       pipenv and pip-tools, in .tooling/ (from tooling.in)
#   requirements.lock  everything the Pipfile brings in, in .venv/
#   package-lock.json  the cdktf CLI, in node_modules/ (npm ci)
#   audit.lock         the live audit's scanner (prowler), in .audit/ (from audit.in)

PYTHON ?= python3
TOOLING := .tooling
AUDIT := .audit

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
# The hash-pinned pipenv first on PATH (and nothing else of .tooling/): the
# recipes below and cdktf.json's `pipenv run python main.py` use it.
export PATH := $(CURDIR)/$(TOOLING)/shims:$(PATH)

PIPENV := $(TOOLING)/bin/pipenv
# --require-hashes: every package must be in the lock with a matching sha256.
PIP_LOCKED := install --quiet --disable-pip-version-check --require-hashes
# Three workers on two cores: the emulated deploys mostly wait (the provider's
# propagation delays, moto), not on the CPU. loadgroup keeps each emulated
# scenario on one worker; tests/conftest.py starts the longest ones first, which
# needs --no-loadscope-reorder (by default xdist hands out the groups with the
# most tests first, and two long scenarios then queued on one worker).
PYTEST_ARGS ?= -n 3 --dist loadgroup --no-loadscope-reorder
# Two workers for the CPU-bound fast tiers.
PYTEST_FAST_ARGS ?= -n 2

.PHONY: setup synth synth-hcl test test-unit check test-emulated lock lock-check upgrade bench checkov cost clean

$(TOOLING)/.installed: tooling.lock
	rm -rf $(TOOLING)
	$(PYTHON) -m venv $(TOOLING)
	$(TOOLING)/bin/python -m pip $(PIP_LOCKED) -r tooling.lock
	mkdir -p $(TOOLING)/shims
	ln -s ../bin/pipenv $(TOOLING)/shims/pipenv
	touch $@

# A fresh .venv whenever the lock changes, holding exactly the locked set: no
# pip or setuptools of its own (the tooling venv's pip, from tooling.lock, installs it).
.venv/.installed: Pipfile requirements.lock | $(TOOLING)/.installed
	$(PYTHON) -m tools.lock --check
	rm -rf .venv
	$(PYTHON) -m venv --without-pip .venv
	$(TOOLING)/bin/python -m pip --python .venv/bin/python $(PIP_LOCKED) -r requirements.lock
	touch $@

# The live audit's scanner in a venv of its own (tools/live_audit.py runs
# .audit/bin/prowler): its few hundred packages never mix with .venv's.
$(AUDIT)/.installed: audit.lock | $(TOOLING)/.installed
	$(PYTHON) -m tools.lock --check
	rm -rf $(AUDIT)
	$(PYTHON) -m venv --without-pip $(AUDIT)
	$(TOOLING)/bin/python -m pip --python $(AUDIT)/bin/python $(PIP_LOCKED) -r audit.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: .venv/.installed node_modules/.installed $(AUDIT)/.installed

synth: .venv/.installed
	$(PIPENV) run python main.py

synth-hcl: setup
	npx cdktf synth --hcl

test: setup
	$(PIPENV) run pytest $(PYTEST_ARGS)

# No terraform, no emulator (tests/conftest.py fails a test here that starts either).
test-unit: .venv/.installed
	$(PIPENV) run pytest -m "not terraform" $(PYTEST_FAST_ARGS)

# The unit tier plus `terraform validate` of every synthesized stack.
check: .venv/.installed
	$(PIPENV) run pytest -m "not terraform or validate" $(PYTEST_FAST_ARGS)

test-emulated: setup
	$(PIPENV) run pytest -m emulated $(PYTEST_ARGS)

# Regenerate requirements.lock (from the Pipfile) and tooling.lock (from
# tooling.in), keeping every pin the inputs still allow: the same inputs give
# the same bytes. `make upgrade` moves to the newest allowed versions;
# `make upgrade PACKAGE=boto3` only that package.
lock: $(TOOLING)/.installed
	$(TOOLING)/bin/python -m tools.lock

upgrade: $(TOOLING)/.installed
	$(TOOLING)/bin/python -m tools.lock $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)

lock-check:
	$(PYTHON) -m tools.lock --check

checkov: synth
	$(PIPENV) run python -m tools.policy_scan

cost: synth
	$(PIPENV) run python -m tools.cost_report

bench: .venv/.installed
	$(PIPENV) run python benchmarks/synth_benchmark.py

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache
