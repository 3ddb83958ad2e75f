# ChatCluster: `make dev` runs the platform locally, `make test` runs every test.
# Both run `setup` first, which installs and builds what is missing (idempotent, cached).
SHELL := /bin/bash
.DEFAULT_GOAL := help
MOCHA := npx mocha

.PHONY: help setup build lint format test test-unit test-harness test-cluster test-slo test-auth test-e2e test-chaos dev clean bench

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

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

SUITES ?= unit harness cluster slo auth message operator notification backup images e2e chaos

test-unit: build ## unit tests (no external components)
	@tools/test/run-suites.sh unit

test-harness: build ## harness self-test: every real component starts, is used, and stops
	@tools/test/run-suites.sh harness

test-cluster: build ## the local single-node cluster: real pods, probes, Services, DNS, clean-up (needs root)
	@tools/test/run-suites.sh cluster

test-slo: build ## SLO rules, alert routing and dashboards against promtool, amtool, Prometheus, Alertmanager and the running services
	@tools/test/run-suites.sh slo

test-auth: build ## auth service against real PostgreSQL and Redis (sign-up to refresh, tokens, outages)
	@tools/test/run-suites.sh auth

test-e2e: build ## the user journeys (SDK and the chat page in Chromium) through the platform as `make dev` starts it, on the local cluster
	@tools/test/run-suites.sh e2e

# The failure matrix alone takes about 16 minutes on 2 cores (its alerts wait out real 5-minute windows);
# it is the last of SUITES, so `make test` (what CI runs) includes it. CHAOS_OUTAGE_SECONDS shortens the
# 30 s outages for local runs only (refused when CI is set); CHAOS_REPORT_FILE collects the scenarios'
# JSON lines.
test-chaos: build ## the failure matrix under chat load: kills, restarts, data-store and provider outages, operator failover, alerts
	@tools/test/run-suites.sh chaos

test: setup lint ## every test: lint, then every suite against real components
	@tools/test/run-suites.sh $(SUITES)

dev: setup build ## start a local single-node cluster with the platform on it, print where everything is (Ctrl-C stops it; needs root)
	node tools/dev/dist/src/dev.js

clean: ## remove build output (the component cache in ~/.cache/chatcluster is kept)
	rm -rf apps/*/dist test/*/dist tools/*/dist operator/dist slo/*/dist dashboards/dist *.tsbuildinfo

bench: setup build ## message service vs Centrifugo v6 (history, recovery), Socket.IO 4 and a bare ws relay under the same load; one JSON line
	@tools/setup/go-tools.sh centrifugo
	node bench/dist/src/run.js

# --- Container images and a kind cluster, for machines with Docker (not used by `make dev` or CI) ---
.PHONY: images kind-up deploy
IMAGE_REPOSITORY ?= ghcr.io/chatcluster
# The chart's appVersion: the operator's default tag, and the version examples/ ChatClusters run.
IMAGE_TAG ?= $(shell awk -F"'" '/^appVersion:/ {print $$2}' charts/chatcluster-operator/Chart.yaml)
IMAGES := auth message notification operator
KIND_CLUSTER ?= chatcluster
KIND_CONTEXT := kind-$(KIND_CLUSTER)
OPERATOR_NAMESPACE ?= chatcluster-system
# kubectl and helm from PATH, else the ones `make setup` builds.
KUBECTL ?= $(shell command -v kubectl || echo $(HOME)/.cache/chatcluster/bin/kubectl)
HELM ?= $(shell command -v helm || echo $(HOME)/.cache/chatcluster/bin/helm)

images: ## build the images of auth, message, notification and the operator (needs Docker)
	@for image in $(IMAGES); do \
	  dockerfile=apps/$$image/Dockerfile; [ $$image = operator ] && dockerfile=operator/Dockerfile; \
	  echo "docker build -f $$dockerfile -t $(IMAGE_REPOSITORY)/$$image:$(IMAGE_TAG) ."; \
	  docker build -f $$dockerfile -t $(IMAGE_REPOSITORY)/$$image:$(IMAGE_TAG) . || exit 1; \
	done

kind-up: ## create the kind cluster `chatcluster` (KIND_CLUSTER) unless it exists (needs Docker and kind)
	@kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER) --wait 120s

deploy: images kind-up ## load the images into kind, helm install the operator, apply data stores, Secrets and the sample ChatCluster
	@for image in $(IMAGES); do kind load docker-image --name $(KIND_CLUSTER) $(IMAGE_REPOSITORY)/$$image:$(IMAGE_TAG) || exit 1; done
	$(HELM) upgrade --install chatcluster-operator charts/chatcluster-operator --kube-context $(KIND_CONTEXT) \
	  --namespace $(OPERATOR_NAMESPACE) --create-namespace \
	  --set image.repository=$(IMAGE_REPOSITORY)/operator --set image.tag=$(IMAGE_TAG) --wait
	$(KUBECTL) --context $(KIND_CONTEXT) apply -f examples/kind/datastores.yaml -f examples/secrets-local.yaml
	$(KUBECTL) --context $(KIND_CONTEXT) apply -f examples/kind/chatcluster.yaml
	$(KUBECTL) --context $(KIND_CONTEXT) wait chatcluster/chat --for=condition=Ready --timeout=300s
