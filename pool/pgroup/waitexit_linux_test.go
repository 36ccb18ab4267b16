package pgroup

import (
	"testing"

	"golang.org/x/sys/unix"
)

// waitExit waits for pid to exit, leaving it a zombie (the group id stays
// reserved), as a caller of Reap does.
func waitExit(t *testing.T, pid int) {
	t.Helper()
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
}
