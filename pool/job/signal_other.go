//go:build !linux && !darwin && !freebsd

package job

import "syscall"

// platformSignals is empty on a system whose own signals are not listed.
var platformSignals = map[syscall.Signal]string{}
