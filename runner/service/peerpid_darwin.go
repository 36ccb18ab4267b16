package service

import "golang.org/x/sys/unix"

// peerPID is the pid of the peer of the unix socket fd (LOCAL_PEERPID),
// or 0: it is only logged.
func peerPID(fd int) int {
	pid, err := unix.GetsockoptInt(fd, unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	if err != nil {
		return 0
	}
	return pid
}
