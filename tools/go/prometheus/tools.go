//go:build tools

// Package tools pins the Prometheus server this module builds (the version the Prometheus Operator
// pinned in tools/versions.env defaults to). Debian's prometheus package is built without the
// kubernetes service discovery, which scraping the local cluster needs; Debian's promtool stays the
// rule checker.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
