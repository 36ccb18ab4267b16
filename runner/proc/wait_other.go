//go:build !linux

package proc

import "syscall"

// waitExit blocks until process pid has exited, reaps it (wait4) and
// returns its status: this system has no waitid WNOWAIT that Go can call,
// and no pidfd (pidfd is always -1).
func waitExit(pid, pidfd int) *exitStatus { return wait4(pid) }

// exited reports whether process pid has exited; if it has, it reaps it
// (wait4 WNOHANG) and returns its status.
func exited(pid int) (bool, *exitStatus) {
	st := tryWait4(pid)
	return st != nil, st
}

// forkExecPidfd starts a child as syscall.ForkExec does; pidfd is always
// -1: pidfds are Linux's.
func forkExecPidfd(path string, argv []string, attr *syscall.ProcAttr) (pid, pidfd int, err error) {
	pid, err = forkExec(path, argv, attr)
	return pid, -1, err
}
