//go:build tools

// Package tools pins the Kubernetes commands this module builds: kube-apiserver for the
// test control plane and kubectl for people using it. Built with
// `go build k8s.io/kubernetes/cmd/<name>` from here (see tools/setup/go-tools.sh).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
