# ChatCluster: `make dev` runs the platform locally, `make test` runs every test.
# Both run `setup` first, which installs and builds what is missing (idempotent, cached).
SHELL := /bin/bash
.DEFAULT_GOAL := help
MOCHA := npx mocha

.PHONY: help setup build lint format test test-unit test-harness test-slo test-auth dev clean  bench

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install Debian packages, Node packages, Go-built tools and third-party CRDs (idempotent)
	@tools/setup/all.sh

build: ## compile every TypeScript package
	@tools/setup/node.sh
	npx tsc -b

lint: build ## typescript-eslint and prettier
	npx eslint .
	npx prettier --check .

format: ## rewrite files with prettier
	npx prettier --write .

SUITES ?= unit harness slo auth operator message notification

test-unit: build ## unit tests (no external components)
	@tools/test/run-suites.sh unit

test-harness: build ## harness self-test: every real component starts, is used, and stops
	@tools/test/run-suites.sh harness

test-slo: build ## SLO rules, alert routing and dashboards against promtool, amtool, Prometheus, Alertmanager
	@tools/test/run-suites.sh slo

test-auth: build ## auth service against real PostgreSQL and Redis (sign-up to refresh, tokens, outages)
	@tools/test/run-suites.sh auth

test: setup lint ## every test: lint, then every suite against real components
	@tools/test/run-suites.sh $(SUITES)

dev: setup build ## start the platform locally and print where everything is (Ctrl-C stops it)
	node tools/dev/dist/src/dev.js

clean: ## remove build output (the component cache in ~/.cache/chatcluster is kept)
	rm -rf apps/*/dist test/*/dist tools/*/dist operator/dist slo/compiler/dist dashboards/dist *.tsbuildinfo

bench: setup build ## message service vs Socket.IO 4 and a bare ws relay under the same load; one JSON line
	node bench/dist/src/run.js
