#!/usr/bin/env bash
# Builds the Go-sourced components into the cache: etcd, kube-apiserver and kubectl, FerretDB,
# Helm, Toxiproxy. Each is rebuilt only when its pinned version or wrapper module changes.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "Go is not installed; it is needed to build etcd, kube-apiserver, FerretDB, Helm and Toxiproxy"
export CGO_ENABLED=0

# build_wrapper NAME DIR PACKAGE [LDFLAGS]: go build PACKAGE inside the wrapper module DIR.
build_wrapper() {
  local name=$1 dir=$ROOT/tools/go/$2 pkg=$3 ldflags=${4:-}
  local key
  key="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)-$ldflags"
  if up_to_date "$name" "$key" && [ -x "$BIN/$name" ]; then return 0; fi
  say "building $name (first time takes minutes; cached in $BIN)"
  (cd "$dir" && with_heartbeat "$name" go build -trimpath -ldflags "$ldflags" -o "$BIN/$name.tmp" "$pkg") \
    || die "could not build $name"
  mv "$BIN/$name.tmp" "$BIN/$name"
  mark_built "$name" "$key"
  say "built $name"
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

want=("${@:-etcd kube-apiserver kubectl ferretdb helm toxiproxy}")
for tool in ${want[*]}; do
  case $tool in
    etcd) build_wrapper etcd etcd . "-s -w" ;;
    kube-apiserver) build_wrapper kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags" ;;
    kubectl) build_wrapper kubectl kube-apiserver k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags" ;;
    ferretdb) build_wrapper ferretdb ferretdb . "-s -w" ;;
    helm) install_module helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    toxiproxy)
      install_module toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server "$TOXIPROXY_VERSION"
      install_module toxiproxy-cli github.com/Shopify/toxiproxy/v2/cmd/cli "$TOXIPROXY_VERSION" ;;
    kind) install_module kind sigs.k8s.io/kind "$KIND_VERSION" ;;
    *) die "unknown tool $tool" ;;
  esac
done
say "Go-built tools ready in $BIN"
