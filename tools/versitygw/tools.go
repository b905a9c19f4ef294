//go:build tools

// Package tools keeps the versitygw main package in the wrapper module graph.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
