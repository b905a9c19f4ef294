//go:build tools

// Package tools keeps krew's validate-krew-manifest main package in the wrapper module graph.
package tools

import _ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
