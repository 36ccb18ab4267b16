package job

import (
	"strconv"
	"strings"
	"syscall"
)

// Outcome.Signal names the signal that killed a job, as the system names
// it; the joblog writes its number.

// signalNames are the names of the standard signals every POSIX system
// has; platformSignals (signal_*.go) adds the system's own.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGCHLD: "SIGCHLD", syscall.SIGCONT: "SIGCONT", syscall.SIGSTOP: "SIGSTOP",
	syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU",
	syscall.SIGURG: "SIGURG", syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
	syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF", syscall.SIGWINCH: "SIGWINCH",
	syscall.SIGIO: "SIGIO", syscall.SIGSYS: "SIGSYS",
}

// SignalName returns a signal's name: "SIGKILL"; "SIG34" for one without.
func SignalName(s syscall.Signal) string {
	if name, ok := signalNames[s]; ok {
		return name
	}
	if name, ok := platformSignals[s]; ok {
		return name
	}
	return "SIG" + strconv.Itoa(int(s))
}

// SignalNumber is the inverse of SignalName; it also takes a bare number.
func SignalNumber(name string) (int, bool) {
	for _, names := range []map[syscall.Signal]string{signalNames, platformSignals} {
		for s, n := range names {
			if n == name {
				return int(s), true
			}
		}
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "SIG"))
	return n, err == nil && n > 0
}
