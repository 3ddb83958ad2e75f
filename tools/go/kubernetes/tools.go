//go:build tools

// Package tools pins the Kubernetes commands this module builds, all from one release and in one
// `go build` so their shared packages compile once (see tools/setup/go-tools.sh): the control plane
// (kube-apiserver, kube-controller-manager, kube-scheduler), the node (kubelet, kube-proxy) and kubectl.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
