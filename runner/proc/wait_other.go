//go:build !linux

package proc

// waitExit blocks until process pid has exited, reaps it (wait4) and
// returns its status: this system has no waitid WNOWAIT that Go can call.
func waitExit(pid int) *exitStatus { return wait4(pid) }

// exited reports whether process pid has exited; if it has, it reaps it
// (wait4 WNOHANG) and returns its status.
func exited(pid int) (bool, *exitStatus) {
	st := tryWait4(pid)
	return st != nil, st
}

// openPidfd returns -1: pidfds are Linux's.
func openPidfd(pid int) int { return -1 }
