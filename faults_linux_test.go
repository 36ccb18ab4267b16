package main

import (
	"syscall"
	"testing"
)

// mountTinyTmpfs mounts a 64 KiB tmpfs on dir for the test, or skips it
// (no privilege to mount).
func mountTinyTmpfs(t *testing.T, dir string) {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}
