//go:build !linux && !freebsd

package pgroup

import "syscall"

// DeathSignalDelivered reports whether the deathsig given to Attr and
// SessionAttr reaches the child when its parent dies: not on this system
// (macOS has no Pdeathsig).
func DeathSignalDelivered() bool { return false }

// setDeathSignal does nothing: this system has no Pdeathsig.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
