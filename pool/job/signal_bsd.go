//go:build darwin || freebsd

package job

import "syscall"

// platformSignals are the names of the BSD signals beyond POSIX's.
var platformSignals = map[syscall.Signal]string{
	syscall.SIGEMT: "SIGEMT", syscall.SIGINFO: "SIGINFO",
}
