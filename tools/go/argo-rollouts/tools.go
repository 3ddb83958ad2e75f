//go:build tools

// Package tools pins the Argo Rollouts commands this module builds in one `go build`: the controller
// the local cluster runs (from its own manifests/install.yaml, with a locally built image) and the
// kubectl plugin (`kubectl argo rollouts promote|abort|status`).
package tools

import (
	_ "github.com/argoproj/argo-rollouts/cmd/kubectl-argo-rollouts"
	_ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
)
