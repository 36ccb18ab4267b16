//go:build darwin || freebsd

package service

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

const peerCheckSupported = true

var errNoPeerCheck error

// peerCred returns the uid of the process at the other end of a
// unix-socket connection, as the kernel recorded it at connect(2):
// LOCAL_PEERCRED, what getpeereid(3) reads; and its pid where the system
// tells it (peerPID; 0 where it does not).
func peerCred(c net.Conn) (uid, pid int, err error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, 0, fmt.Errorf("not a unix-socket connection (%T)", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		if credErr == nil {
			pid = peerPID(int(fd))
		}
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, fmt.Errorf("LOCAL_PEERCRED: %w", credErr)
	}
	return int(cred.Uid), pid, nil
}
