# Two commands for a fresh clone: `make synth` and `make test`. Everything else is set up here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: synth test bench docs dist lint typecheck unit clean

synth: $(VENV)/.installed node_modules/.installed ## Synthesize sample_app into cdk.out/ with the five cdk-nag packs, then simulate its jobs offline
	$(CDK) synth --quiet --app "$(PY) -m sample_app.app"
	$(PY) -m sample_app.summary cdk.out
	$(PY) -m sample_app.simulate cdk.out

# checkov pins boto3 1.35 and packaging < 24, which the tests cannot use: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
export CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed ## Lint, type-check and run the tests (iam-simulate evaluates every simulated request)
	$(PY) -m ruff check export_constructs tests sample_app bench tools
	$(PY) -m ruff format --check export_constructs tests sample_app bench tools
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(VENV)/.installed ## Synthesize 0-200 jobs with the library and 1-25 by hand, print the table, then the deploy and recurring-export tables on the virtual clock (docs/benchmarks.md)
	$(PY) -m bench

# The API reference: the package and export_constructs.testing, from their docstrings (Google style);
# the per-module pages, the handler (the Lambda code asset) and the fakes' internals are left out.
# tools/apidocs.py runs pdoc with what it lacks: inherited members of private bases, defaults as
# users write them, and a failure on a cross-reference to nothing in the reference.
# PDOC_ALLOW_EXEC: importing aws_cdk starts jsii's Node.js process, which pdoc blocks by default.
DOCS_OUT := docs/api
DOCS_MODULES := export_constructs '!export_constructs\..*' export_constructs.testing '!export_constructs\.testing\..*'
# It needs only the package with its [docs] extra (pdoc, and boto3 for export_constructs.testing):
# a venv of its own, not the test venv.
DOCS_VENV := .venv-docs
docs: $(DOCS_VENV)/.installed ## Generate the API reference from the docstrings into docs/api/ (open docs/api/index.html)
	rm -rf $(DOCS_OUT)
	PDOC_ALLOW_EXEC=1 $(DOCS_VENV)/bin/python -m tools.apidocs $(DOCS_OUT) $(DOCS_MODULES)
	@echo "API reference: $(DOCS_OUT)/index.html"

$(DOCS_VENV)/.installed: pyproject.toml
	@test -x $(DOCS_VENV)/bin/python || { echo "$(DOCS_VENV): creating a virtual environment for make docs"; $(PYTHON) -m venv $(DOCS_VENV); }
	@$(PIP_STEP) "$(DOCS_VENV): upgrading pip" $(DOCS_VENV)/bin/python --upgrade pip
	@$(PIP_STEP) "$(DOCS_VENV): installing export_constructs (editable) with its [docs] extra: aws-cdk-lib, boto3, pdoc (~250 MB)" $(DOCS_VENV)/bin/python -e '.[docs]'
	@touch $@

# The wheel and sdist need neither the test venv nor the package's dependencies: a venv with only
# `build`, which builds in an isolated environment of its own (setuptools, as pyproject.toml asks).
BUILD_VENV := .venv-build
dist: $(BUILD_VENV)/.installed ## Build the wheel and the sdist into dist/ (isolated: no test venv needed)
	rm -rf dist
	$(BUILD_VENV)/bin/python -m build --outdir dist .

$(BUILD_VENV)/.installed:
	@test -x $(BUILD_VENV)/bin/python || { echo "$(BUILD_VENV): creating a virtual environment for build"; $(PYTHON) -m venv $(BUILD_VENV); }
	@$(PIP_STEP) "$(BUILD_VENV): installing build" $(BUILD_VENV)/bin/python 'build>=1.2'
	@touch $@

# Set-up steps print one line each (tools/pip_step.py: what is installed, how far pip got, the end).
PIP_STEP := $(PYTHON) tools/pip_step.py

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || { echo "$(VENV): creating a virtual environment ($$($(PYTHON) --version))"; $(PYTHON) -m venv $(VENV); }
	@$(PIP_STEP) "$(VENV): upgrading pip" $(PY) --upgrade pip
	@$(PIP_STEP) "$(VENV): installing export_constructs (editable) with its [test] extra: aws-cdk-lib, boto3, cdk-nag, cfn-lint, mypy, pdoc, pytest... (~770 MB; about 2 minutes the first time)" $(PY) -e '.[test]'
	@touch $@

$(CHECKOV_VENV)/.installed: Makefile
	@test -x $(CHECKOV_VENV)/bin/python || { echo "$(CHECKOV_VENV): creating a virtual environment for checkov"; $(PYTHON) -m venv $(CHECKOV_VENV); }
	@$(PIP_STEP) "$(CHECKOV_VENV): upgrading pip" $(CHECKOV_VENV)/bin/python --upgrade pip
	@$(PIP_STEP) "$(CHECKOV_VENV): installing checkov $(CHECKOV_VERSION) (a venv of its own: it pins boto3 1.35)" $(CHECKOV_VENV)/bin/python 'checkov==$(CHECKOV_VERSION)'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "node_modules: installing the pinned CDK CLI (aws-cdk 2.x), iam-simulate, the AWS SDK clients the Provider framework's code requires and AWS's state-machine validator, with npm ci, on Node.js $$(node --version) (supported: 22 and 24; 20 works, its end-of-life banner silenced here)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(BUILD_VENV) $(DOCS_VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache $(DOCS_OUT) dist build
