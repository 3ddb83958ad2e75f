#!/usr/bin/env bash
# Fetches the third-party CRDs the operator's tests install into a real kube-apiserver: Argo Rollouts
# (Rollout and its analysis kinds) and the Prometheus Operator (PrometheusRule, ServiceMonitor,
# PodMonitor), Argo Rollouts' own install manifest, and the Prometheus Operator's full CRD set and RBAC
# examples, which the local cluster applies. They come from
# the Go module proxy, the one source reachable without general internet, and land in $CACHE/crds
# (test/harness thirdPartyCrdFiles) and $CACHE/manifests.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "Go is not installed; it is needed to download the Argo Rollouts and Prometheus Operator CRDs"

CRDS="$CACHE/crds"
argo_files=(
  rollout-crd.yaml analysis-template-crd.yaml analysis-run-crd.yaml
  cluster-analysis-template-crd.yaml experiment-crd.yaml
)
prom_files=(
  monitoring.coreos.com_prometheusrules.yaml monitoring.coreos.com_servicemonitors.yaml
  monitoring.coreos.com_podmonitors.yaml
)
MANIFESTS="$CACHE/manifests"
key="argo-rollouts@$ARGO_ROLLOUTS_VERSION prometheus-operator@$PROMETHEUS_OPERATOR_VERSION manifests+prometheus-operator"

all_present() {
  local f
  for f in "${argo_files[@]}" "${prom_files[@]}"; do [ -f "$CRDS/$f" ] || return 1; done
  [ -f "$MANIFESTS/argo-rollouts-install.yaml" ] && [ -d "$MANIFESTS/prometheus-operator/crds" ]
}
if up_to_date crds "$key" && all_present; then
  say "third-party CRDs present in $CRDS"
  exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# module_dir MODULE@VERSION: downloads the module into the module cache and prints its directory.
# Run outside any module (in $scratch) so the repository's go.mod files are not touched.
module_dir() {
  local json dir
  json=$(cd "$scratch" && GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local go mod download -json "$1") \
    || die "go mod download $1 failed: $json"
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $1 did not report a module directory: $json"
  printf '%s' "$dir"
}

# copy_crds SOURCE_DIR FILE...: copies each file, failing with its expected path when one is missing.
copy_crds() {
  local src=$1 f
  shift
  for f in "$@"; do
    [ -f "$src/$f" ] || die "CRD file $f not found in $src; did the upstream layout change?"
    cp "$src/$f" "$CRDS/$f.tmp"
    chmod 644 "$CRDS/$f.tmp"
    mv "$CRDS/$f.tmp" "$CRDS/$f"
  done
}

say "downloading Argo Rollouts $ARGO_ROLLOUTS_VERSION and Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs"
mkdir -p "$CRDS"
argo=$(module_dir "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION")
copy_crds "$argo/manifests/crds" "${argo_files[@]}"
mkdir -p "$MANIFESTS"
install -m 644 "$argo/manifests/install.yaml" "$MANIFESTS/argo-rollouts-install.yaml"
prom=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
copy_crds "$prom/example/prometheus-operator-crd" "${prom_files[@]}"
# Everything the Prometheus Operator needs to run in the local cluster: all its CRDs, and the RBAC
# examples for the operator and for the Prometheus it manages.
rm -rf "$MANIFESTS/prometheus-operator.tmp"
mkdir -p "$MANIFESTS/prometheus-operator.tmp"
cp -r "$prom/example/prometheus-operator-crd" "$MANIFESTS/prometheus-operator.tmp/crds"
cp -r "$prom/example/rbac/prometheus-operator" "$MANIFESTS/prometheus-operator.tmp/operator"
cp -r "$prom/example/rbac/prometheus" "$MANIFESTS/prometheus-operator.tmp/prometheus"
chmod -R u+w,go+r "$MANIFESTS/prometheus-operator.tmp"
rm -rf "$MANIFESTS/prometheus-operator"
mv "$MANIFESTS/prometheus-operator.tmp" "$MANIFESTS/prometheus-operator"
mark_built crds "$key"
say "third-party CRDs ready in $CRDS"
