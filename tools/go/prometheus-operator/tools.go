//go:build tools

// Package tools pins the Prometheus Operator (the version whose CRDs tools/versions.env pins) and its
// config reloader. `go install` refuses the operator's module: its go.mod replaces its own
// pkg/apis/monitoring and pkg/client with local paths, so this wrapper requires all three at the same
// version, with no replaces.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader"
)
