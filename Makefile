# Set-up and everyday commands. `make synth` and `make test` install what
# they need first (a fresh machine needs nothing but python3, npm and the
# terraform CLI with its offline provider mirror).

PYTHON ?= python3
PIPENV_VERSION := 2026.10.3

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

PIPENV := $(PYTHON) -m pipenv
# Three workers on two cores: the emulated deploys mostly wait (the provider's
# propagation delays, moto), not on the CPU. loadgroup keeps each emulated
# scenario on one worker; tests/conftest.py starts the longest ones first.
PYTEST_ARGS ?= -n 3 --dist loadgroup

.PHONY: setup synth synth-hcl test test-unit test-emulated bench checkov cost clean

.venv/.installed: Pipfile
	$(PYTHON) -m pip install --quiet --disable-pip-version-check "pipenv==$(PIPENV_VERSION)"
	# Pipfile pins every direct dependency; the lock file is not kept (it would name the package index).
	$(PIPENV) install --dev --skip-lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: .venv/.installed node_modules/.installed

synth: .venv/.installed
	$(PIPENV) run python main.py

synth-hcl: setup
	npx cdktf synth --hcl

test: setup
	$(PIPENV) run pytest $(PYTEST_ARGS)

test-unit: .venv/.installed
	$(PIPENV) run pytest -m "not terraform" $(PYTEST_ARGS)

test-emulated: setup
	$(PIPENV) run pytest -m emulated $(PYTEST_ARGS)

checkov: synth
	$(PIPENV) run python -m tools.policy_scan

cost: synth
	$(PIPENV) run python -m tools.cost_report

bench: .venv/.installed
	$(PIPENV) run python benchmarks/synth_benchmark.py

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache
