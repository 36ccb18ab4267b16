//go:build !linux

package main

import (
	"runtime"
	"testing"
)

// mountTinyTmpfs skips the test: mounting a tmpfs is Linux's.
func mountTinyTmpfs(t *testing.T, dir string) {
	t.Skipf("no tmpfs to mount on %s", runtime.GOOS)
}
