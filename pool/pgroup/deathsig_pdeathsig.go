//go:build linux || freebsd

package pgroup

import (
	"runtime"
	"syscall"

	"github.com/futures-cli/futures/internal/platform"
)

// DeathSignalDelivered reports whether the deathsig given to Attr and
// SessionAttr reaches the child when its parent dies: Linux and FreeBSD
// (Pdeathsig, procctl on FreeBSD), unless the portable paths are forced
// (internal/platform).
func DeathSignalDelivered() bool { return runtime.GOOS == "freebsd" || !platform.Portable }

// setDeathSignal sets a's Pdeathsig, where DeathSignalDelivered says so.
func setDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) {
	if DeathSignalDelivered() {
		a.Pdeathsig = sig
	}
}
