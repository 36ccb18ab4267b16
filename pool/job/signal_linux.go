package job

import "syscall"

// platformSignals are the names of Linux's signals beyond POSIX's.
var platformSignals = map[syscall.Signal]string{
	syscall.SIGPWR: "SIGPWR", syscall.SIGSTKFLT: "SIGSTKFLT",
}
