# EdgeVox appliance. `make run` and `make test` each work alone on a fresh Debian machine:
# both depend on `setup`, which installs only what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# onnxruntime-node's postinstall would download CUDA providers from outside the npm registry.
export ONNXRUNTIME_NODE_INSTALL := skip
export ONNXRUNTIME_NODE_INSTALL_CUDA := skip

MODELS_DIR ?= ../shared/models
DATA_DIR ?= var
NPM_STAMP := node_modules/.edgevox-npm-stamp
BUILD_STAMP := dist/.edgevox-build-stamp
TS_SOURCES := $(shell find appliance cli collector tools models -name '*.ts' -not -path '*/node_modules/*' 2>/dev/null)

.PHONY: help setup apt deps build models-install run test test-unit lint typecheck clean

help:
	@echo "make run    - install what is missing, then start the appliance on http://127.0.0.1:8080"
	@echo "make test   - install what is missing, then run the whole test suite"
	@echo "make lint   - typecheck, eslint (type-checked), prettier and the layout rules (dependency-cruiser)"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t- /' | sort || true

setup: apt deps build models-install ## idempotent: apt packages, npm ci, native builds, model install

apt:
	@bash provisioning/setup/apt.sh provisioning/apt-packages.txt

deps: $(NPM_STAMP)
$(NPM_STAMP): package-lock.json package.json
	@# mediasoup's postinstall downloads a worker unless MEDIASOUP_WORKER_BIN is set; the worker is
	@# built offline by native/mediasoup (mk/webrtc.mk) after npm ci, so skip the postinstall here.
	MEDIASOUP_WORKER_BIN="$${MEDIASOUP_WORKER_BIN:-/nonexistent-built-by-make-native-mediasoup}" npm ci --no-audit --no-fund
	@touch $@

build: $(BUILD_STAMP)
$(BUILD_STAMP): $(NPM_STAMP) $(TS_SOURCES) tsconfig.json tsconfig.build.json
	npx tsc -p tsconfig.build.json
	@touch $@

models-install: build
	node bin/edgevox.js install-models --models-dir "$(MODELS_DIR)" --data-dir "$(DATA_DIR)"

run: setup
	node bin/edgevox.js serve --data-dir "$(DATA_DIR)" --models-dir "$(MODELS_DIR)"

test: setup
	npx vitest run

test-unit: deps
	npx vitest run test/unit

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

lint: deps
	npx tsc -p tsconfig.json --noEmit
	npx eslint .
	npx prettier --check .
	npx depcruise --config .dependency-cruiser.cjs appliance cli tools collector models web

clean:
	rm -rf dist

# Each capability keeps its own targets (bench-*, eval-*, models) in mk/<area>.mk.
-include mk/*.mk

docs: build ## regenerate README's error and configuration tables from the code
	node provisioning/docs/readme-tables.mjs
