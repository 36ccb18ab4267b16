//go:build !linux && !darwin && !freebsd

package service

import (
	"errors"
	"net"
	"runtime"
)

// On a system futures has no peer-credential check for (Linux has
// SO_PEERCRED, macOS and FreeBSD LOCAL_PEERCRED), Listen refuses to serve
// rather than serve without the check.
const peerCheckSupported = false

var errNoPeerCheck = errors.New("no peer-credential check on " + runtime.GOOS + " yet: refusing to listen")

func peerCred(c net.Conn) (uid, pid int, err error) {
	return 0, 0, errNoPeerCheck
}
