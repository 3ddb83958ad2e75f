//go:build tools

// Package tools pins the Centrifugo server the benchmark runs as its peer that stores and recovers
// (Redis engine, history with force_recovery): built from its Go module like the other tools, since
// Debian does not package it.
package tools

import _ "github.com/centrifugal/centrifugo/v6"
