# Two commands matter: `make dev` (run the local stack) and `make test` (set up and pass the tests).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.12: so do the tests. pyenv's 3.12 when present, else python3.12 on PATH.
PYTHON312 := $(shell p=$$(pyenv prefix 3.12.1 2>/dev/null) && echo $$p/bin/python3 || command -v python3.12)
VENV := .venv
SAM_VENV := .venv-sam
RUNTIME_VENV := .venv-runtime
PY := $(VENV)/bin/python
# uv creates and fills the virtualenvs (several times faster than pip); pip installs uv itself, once.
# uv reads neither pip's configuration nor certifi: the platform's certificates, like pip here; it never
# downloads a Python (PYTHON312 is given); bytecode compiled at install, as pip does.
UV_VERSION := 0.13.8
UV_DIR := .venv-uv
UV := $(UV_DIR)/bin/uv
UV_STAMP := $(UV_DIR)/.installed-$(UV_VERSION)
UV_INSTALL = $(UV) pip install --quiet --compile-bytecode --python
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never
# pytest-xdist: PYTEST_WORKERS processes share the tests; each end-to-end file stays whole on one of
# them (tests/parallel.py). One per core: on two busy cores, 2 workers took 261 s (236 s CPU) where 3
# took 275 s (258 s CPU): the tests are CPU-bound, and a third worker only adds its own start-up.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS)
export AWS_DEFAULT_REGION ?= eu-west-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help dev build-quietly invoke install test pytest unit lint typecheck validate build events deploy clean bench reliability openapi replay doctor backfill

help:
	@echo "make dev       run the local stack: API on :3000, demo shop, provider sandboxes (Ctrl-C stops)"
	@echo "make test      create the virtualenvs, lint, type-check and run every test (in parallel)"
	@echo "make validate  sam validate --lint and cfn-lint on template.yaml"
	@echo "make build     sam build (layer + functions into .aws-sam/build)"
	@echo "make deploy    sam build + sam deploy --guided"
	@echo "make invoke EVENT=events/<provider>/<what>.json  sam local invoke with a sample event (Docker; events/README.md)"
	@echo "make events    regenerate events/ (fresh timestamps for the signed notifications)"
	@echo "make openapi   regenerate docs/openapi.json from the code (a test fails when it is stale)"
	@echo "make doctor    check each provider's settings against the provider (STACK=<name>, PROVIDERS_FILE=…)"
	@echo "make backfill  once after an upgrade: index the orders stored before the operator's indexes (STACK=<name> or TABLE=<name>)"
	@echo "make replay FILE=<captured request>  send a provider notification to the local stack; print the doctor's verdict"
	@echo "make bench     benchmarks: cold start, per-request CPU, round trips, sizes, SDK ratios"
	@echo "make reliability  the adversarial suite and its table (forgeries, races, faults, fuzzing)"

$(UV_STAMP):
	$(PYTHON312) -m pip install --quiet --quiet --disable-pip-version-check --upgrade --target $(UV_DIR) uv==$(UV_VERSION)
	touch $@

$(VENV)/.installed: requirements-dev.txt layers/payments/requirements.txt | $(UV_STAMP)
	test -x $(PY) || $(UV) venv --quiet --clear --python $(PYTHON312) $(VENV)
	$(UV_INSTALL) $(PY) -r requirements-dev.txt
	touch $@

# A provider's official SDK, the independent oracle its tests compare us with, pins what ours cannot
# share (an older pydantic or cryptography): each lives in a virtualenv of its own, .venv-oracle-<provider>,
# made from tests/providers/<provider>/oracle/requirements.txt (tests/support/oracle_venvs.py finds it).
ORACLE_VENVS := $(patsubst tests/providers/%/oracle/requirements.txt,.venv-oracle-%/.installed,\
	$(wildcard tests/providers/*/oracle/requirements.txt))
$(ORACLE_VENVS): .venv-oracle-%/.installed: tests/providers/%/oracle/requirements.txt | $(UV_STAMP)
	test -x .venv-oracle-$*/bin/python || $(UV) venv --quiet --clear --python $(PYTHON312) .venv-oracle-$*
	$(UV_INSTALL) .venv-oracle-$*/bin/python -r $<
	touch $@

# What Lambda's python3.12 runtime provides around our code: awslambdaric and boto3.
$(RUNTIME_VENV)/.installed: | $(UV_STAMP)
	test -x $(RUNTIME_VENV)/bin/python || $(UV) venv --quiet --clear --python $(PYTHON312) $(RUNTIME_VENV)
	$(UV_INSTALL) $(RUNTIME_VENV)/bin/python awslambdaric==4.2.2 boto3==1.44.5
	touch $@

# aws-sam-cli pins its own boto3: kept apart from the project's environment.
$(SAM_VENV)/.installed: | $(UV_STAMP)
	test -x $(SAM_VENV)/bin/python || $(UV) venv --quiet --clear --python $(PYTHON312) $(SAM_VENV)
	$(UV_INSTALL) $(SAM_VENV)/bin/python aws-sam-cli==1.170.0 cfn-lint==1.58.0
	touch $@

# Every virtualenv (.ci/run times this stage on its own).
# They are independent: made side by side, whether or not make was given -j.
VENVS := $(VENV)/.installed $(ORACLE_VENVS) $(RUNTIME_VENV)/.installed $(SAM_VENV)/.installed
install:
	@$(MAKE) --no-print-directory --question $(VENVS) || $(MAKE) --no-print-directory -j $(words $(VENVS)) --output-sync=target $(VENVS)

# Everything, including the local stack end to end (in-process and under the Lambda emulator against
# `sam build`) and the browser test (skipped, with a notice, where Debian's chromium is not installed).
test: install lint build
	@$(MAKE) --no-print-directory pytest

# The test run of `make test` alone: no lint, no build (it needs a `make build` done before).
pytest: install
	REQUIRE_ORACLES=1 REQUIRE_EMULATOR=1 REQUIRE_ALL_FIGURES=1 $(PY) -m pytest $(PYTEST_PARALLEL)

# The tests that need no AWS (not marked `aws`: tests/conftest.py) in tests/unit, tests/providers and
# tests/contract (its checks of the registries and kits), run with moto unimportable, which proves it.
unit: $(VENV)/.installed
	WITHOUT_MOTO=1 $(PY) -m pytest tests/unit tests/providers tests/contract -m "not aws" -q $(PYTEST_PARALLEL)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy local events bench docs
	@# tests import docs/openapi.py as docs.openapi: apart, so that it has one module name
	$(VENV)/bin/mypy tests
	@# each handler is an app.py of its own: checked one at a time
	for handler in functions/*/app.py; do $(VENV)/bin/mypy --no-namespace-packages $$handler || exit 1; done
	$(VENV)/bin/vulture layers/payments/payments functions local bench events docs tests \
		--ignore-decorators "$(VULTURE_CALLED_BY_FRAMEWORKS)" --ignore-names "$(VULTURE_USED_BY_NAME)"

# Dead code (vulture) but for what frameworks call or read by name: routes and hooks registered by
# decorator, handlers named in template.yaml, http.server's hooks and settings, pytest's hooks and the
# fixtures asked for only to be set up first (mocked_aws), importlib's finder hook, Lambda context
# attributes, pydantic settings and the customer fields the adapters read by name.
VULTURE_CALLED_BY_FRAMEWORKS := @field_validator,@model_validator,@app.*,@*.exception_handler,@*.not_found,@pytest.fixture,@pytest.hookimpl
VULTURE_USED_BY_NAME := lambda_handler,do_GET,do_POST,do_PUT,do_PATCH,do_DELETE,log_message,pytest_*,mocked_aws,find_spec,protocol_version,disable_nagle_algorithm,daemon_threads,close_connection,RequestHandlerClass,memory_limit_in_mb,invoked_function_arn,raise_on_entire_batch_failure,model_config,first_name,last_name,country,address1,address2,house_number,zip_code,city

validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml

build: $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM_VENV)/bin/sam build
	@# The runtime provides boto3/botocore; a bundled copy would shadow it and bloat every cold start.
	@! ls -d .aws-sam/build/PaymentsLayer/python/{boto3,botocore} 2>/dev/null | grep . \
		|| { echo "error: boto3/botocore bundled into the layer"; exit 1; }
	@du -sh .aws-sam/build/PaymentsLayer .aws-sam/build/*Function

# The adversarial suite (also part of `make test`) on its own, with its table of figures:
# forgeries, repeats and reordering, races, provider and DynamoDB faults, fuzzing, leaks, privileges.
reliability: $(VENV)/.installed
	REQUIRE_ALL_FIGURES=1 $(PY) -m pytest tests/reliability $(wildcard tests/providers/*/test_reliability_*.py) -q $(PYTEST_PARALLEL)

# Figures, not a test: cold start vs floor, per-request CPU, round trips, package sizes, SDK ratios,
# local-stack throughput. Prints a table; writes bench/results.json. Run it on an idle machine.
bench: $(VENV)/.installed $(ORACLE_VENVS) $(RUNTIME_VENV)/.installed build
	$(PY) -m bench.run  # BENCH_STEPS=hot_keys,…: only those steps (bench/run.py)

events: $(VENV)/.installed
	$(PY) events/generate.py

openapi: $(VENV)/.installed
	$(PY) -m docs.openapi

# A captured provider notification (local/replay.py: method, path, headers, body) to the local stack, or
# to API_URL with API_KEY (make dev prints both); prints accepted, or the refusal's code and explanation.
replay: $(VENV)/.installed
	$(PY) -m local.replay "$(FILE)"

# Each provider's configuration checked, and checked against the provider (local/doctor.py): the local
# stack (API_URL, API_KEY), PROVIDERS_FILE=<credentials file>, or STACK=<deployed stack name>.
doctor: $(VENV)/.installed
	$(PY) -m local.doctor

# Once after upgrading a stack whose table holds orders from before the operator's indexes
# (local/backfill.py): STACK=<name> or TABLE=<name>; SEGMENTS, PAGE_SIZE, RATE (requests a second).
backfill: $(VENV)/.installed
	$(PY) -m local.backfill

deploy: build
	$(SAM_VENV)/bin/sam deploy --guided

# sam local invoke (needs Docker and AWS credentials) of the function an event's route reaches, built
# first, pointed at the deployed table and secret by ENV_VARS (fill events/env.json in from the stack's
# outputs). make invoke EVENT=events/<provider>/create_order.json [ENV_VARS=…] [SAM_ARGS='--profile x']
ENV_VARS ?= events/env.json
invoke: $(VENV)/.installed
	@test -n "$(EVENT)" || { echo "make invoke: say which event: make invoke EVENT=events/<provider>/create_order.json (list: events/README.md)" >&2; exit 2; }
	@$(PY) -m events.invoke "$(EVENT)" --env-vars "$(ENV_VARS)" --print >/dev/null
	@$(MAKE) --no-print-directory build-quietly
	@$(PY) -m events.invoke "$(EVENT)" --env-vars "$(ENV_VARS)" --sam-args "$(SAM_ARGS)"

# The whole product on this machine: moto, provider sandboxes, API gateway on :3000, demo shop.
# Functions run under the Lambda Runtime Interface Emulator against `sam build` output.
# PORT=3001 make dev, IN_PROCESS=1 make dev (no build, handlers in-process), PROVIDERS_FILE=real.json,
# LOCAL_API_KEY=<20+ characters> (the same API key every run). The port and settings are checked first,
# with the bare Python, so a taken port fails in a second instead of after the build.
PORT ?= 3000
BOOT_PY := $(or $(PYTHON312),python3)
dev:
	@$(BOOT_PY) -m local.preflight --port "$(PORT)"
	@test -f $(VENV)/.installed || echo "make dev: first run: creating $(VENV) (about half a minute)"
	@$(MAKE) --no-print-directory --silent $(VENV)/.installed
	@if [ "$(IN_PROCESS)" != "1" ]; then \
		$(MAKE) --no-print-directory build-quietly QUIET_BUILD_ALSO=$(RUNTIME_VENV)/.installed; fi
	@$(PY) -m local.stack --port "$(PORT)"

# sam build with its output (progress, "Commands you can use next", the manifest notice sam repeats for
# every function) in a log rather than between make dev's or make invoke's lines; its tail on failure.
# QUIET_BUILD_ALSO: more targets to make along with it, in the same log.
build-quietly:
	@mkdir -p .local-logs
	@echo "sam build (log: .local-logs/sam-build.log; the first run also installs aws-sam-cli: about half a minute)"
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory build $(QUIET_BUILD_ALSO) >.local-logs/sam-build.log 2>&1; then \
		echo "built in $$(( $$(date +%s) - start )) s"; \
	else \
		tail -n 30 .local-logs/sam-build.log; \
		echo "sam build failed; the whole log is in .local-logs/sam-build.log" >&2; exit 1; \
	fi

clean:
	rm -rf $(VENV) $(ORACLE_VENVS:/.installed=) $(SAM_VENV) $(RUNTIME_VENV) $(UV_DIR) .local-logs .aws-sam .mypy_cache .ruff_cache .pytest_cache
