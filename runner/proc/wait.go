package proc

import (
	"fmt"
	"syscall"
)

// Waiting for a job's main process. On Linux, Exec waits for the exit
// without reaping (its pidfd, or waitid WNOWAIT without one): the process
// stays a zombie until Exec reaps it (wait4, which returns its status and
// rusage), so its pid, and so its process group's id, cannot be reused
// while Exec KILLs what is left of the group.
//
// The portable wait (macOS, FreeBSD; Linux with FUTURES_FORCE_PORTABLE=1)
// is wait4(2), POSIX's, which reaps at once and returns the status and the
// rusage together. The group is KILLed just after: a group with a member
// left keeps its id (POSIX does not reuse the id of a live group), and one
// with none left is gone, so the only risk is that in those few
// microseconds the pid is taken by a new process that makes itself a group
// leader: a risk a runner on these systems takes.

// exitStatus is how a job's main process ended, as wait4 reported it: its
// status and resource usage, or the error that wait4 returned.
type exitStatus struct {
	ws  syscall.WaitStatus
	ru  syscall.Rusage
	err error
}

// wait4 reaps process pid, blocking until it has exited.
func wait4(pid int) *exitStatus {
	return wait4Flags(pid, 0)
}

// tryWait4 reaps process pid if it has exited, and returns nil if it has
// not.
func tryWait4(pid int) *exitStatus {
	return wait4Flags(pid, syscall.WNOHANG)
}

func wait4Flags(pid, flags int) *exitStatus {
	var st exitStatus
	for {
		wpid, err := syscall.Wait4(pid, &st.ws, flags, &st.ru)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			st.err = fmt.Errorf("wait4: %w", err)
			return &st
		case wpid == 0: // WNOHANG: still running
			return nil
		}
		return &st
	}
}
