#!/usr/bin/env bash
# Builds the Go-sourced components into the cache: etcd, the Kubernetes binaries (control plane,
# node, kubectl), CoreDNS, the pause binary, Argo Rollouts (controller and kubectl plugin), the
# Prometheus server (with the kubernetes service discovery Debian's build lacks), the Prometheus
# Operator and its config reloader, FerretDB, Helm,
# Toxiproxy. Each is rebuilt only when its pinned version or
# wrapper module changes.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "Go is not installed; it is needed to build etcd, Kubernetes, CoreDNS, FerretDB, Helm and Toxiproxy"
export CGO_ENABLED=0

# build_wrapper DIR LDFLAGS NAME=PACKAGE...: one `go build` inside the wrapper module DIR for every
# PACKAGE (shared packages compile once), each binary installed as NAME. Skipped when every NAME was
# built from the same module files and flags.
build_wrapper() {
  local dir=$ROOT/tools/go/$1 ldflags=$2
  shift 2
  local key names=() pkgs=() pair stale=0
  key="$(cat "$dir"/go.mod "$dir"/go.sum "$dir"/*.go | sha256sum | cut -c1-16)-$ldflags"
  for pair in "$@"; do
    names+=("${pair%%=*}") pkgs+=("${pair#*=}")
    up_to_date "${pair%%=*}" "$key" && [ -x "$BIN/${pair%%=*}" ] || stale=1
  done
  [ $stale = 1 ] || return 0
  local label="${names[*]}" out
  say "building $label (first time takes minutes; cached in $BIN)"
  local started=$SECONDS
  out=$(mktemp -d "$BIN/.build.XXXXXX")
  (cd "$dir" && with_heartbeat "$label" go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}") \
    || { rm -rf "$out"; die "could not build $label"; }
  local i
  for i in "${!names[@]}"; do
    # `go build -o DIR/` names a binary after its package path (without a major-version suffix such
    # as /v6); `.` after the wrapper module's path.
    local built=${pkgs[$i]}
    [ "$built" = . ] && built=$dir
    [[ $(basename "$built") =~ ^v[0-9]+$ ]] && built=$(dirname "$built")
    mv "$out/$(basename "$built")" "$BIN/${names[$i]}"
    mark_built "${names[$i]}" "$key"
  done
  rm -rf "$out"
  say "built $label ($((SECONDS - started)) s)"
}

# install_module NAME MODULE/CMD VERSION: go install into a scratch GOBIN, renamed to NAME.
install_module() {
  local name=$1 pkg=$2 version=$3
  if up_to_date "$name" "$pkg@$version" && [ -x "$BIN/$name" ]; then return 0; fi
  say "installing $name $version"
  local scratch
  scratch=$(mktemp -d)
  GOBIN=$scratch with_heartbeat "$name" go install -trimpath "$pkg@$version" || die "could not go install $pkg@$version"
  mv "$scratch/$(basename "$pkg")" "$BIN/$name"
  rm -rf "$scratch"
  mark_built "$name" "$pkg@$version"
  say "installed $name"
}

k8s_minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"

k8s=k8s.io/kubernetes/cmd
# Centrifugo (the benchmark's peer) is built by `make bench` only: the tests do not need it.
want=("${@:-etcd kubernetes coredns pause argo-rollouts prometheus prometheus-operator ferretdb helm toxiproxy}")
for tool in ${want[*]}; do
  case $tool in
    etcd) build_wrapper etcd "-s -w" etcd=. ;;
    kubernetes)
      build_wrapper kubernetes "$k8s_ldflags" kube-apiserver=$k8s/kube-apiserver kubectl=$k8s/kubectl \
        kube-controller-manager=$k8s/kube-controller-manager kube-scheduler=$k8s/kube-scheduler \
        kubelet=$k8s/kubelet kube-proxy=$k8s/kube-proxy ;;
    coredns) build_wrapper coredns "-s -w" coredns=. ;;
    pause) build_wrapper pause "-s -w" pause=. ;;
    argo-rollouts)
      build_wrapper argo-rollouts "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=$ARGO_ROLLOUTS_VERSION" \
        rollouts-controller=github.com/argoproj/argo-rollouts/cmd/rollouts-controller \
        kubectl-argo-rollouts=github.com/argoproj/argo-rollouts/cmd/kubectl-argo-rollouts ;;
    prometheus)
      build_wrapper prometheus "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_SERVER_VERSION" \
        prometheus=github.com/prometheus/prometheus/cmd/prometheus ;;
    prometheus-operator)
      build_wrapper prometheus-operator "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_VERSION#v}" \
        prometheus-operator=github.com/prometheus-operator/prometheus-operator/cmd/operator \
        prometheus-config-reloader=github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader ;;
    ferretdb) build_wrapper ferretdb "-s -w" ferretdb=. ;;
    centrifugo)
      build_wrapper centrifugo "-s -w -X github.com/centrifugal/centrifugo/v6/internal/build.Version=${CENTRIFUGO_VERSION#v}" \
        centrifugo=github.com/centrifugal/centrifugo/v6 ;;
    helm) install_module helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    toxiproxy)
      install_module toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server "$TOXIPROXY_VERSION"
      install_module toxiproxy-cli github.com/Shopify/toxiproxy/v2/cmd/cli "$TOXIPROXY_VERSION" ;;
    kind) install_module kind sigs.k8s.io/kind "$KIND_VERSION" ;;
    *) die "unknown tool $tool" ;;
  esac
done
say "Go-built tools ready in $BIN"
