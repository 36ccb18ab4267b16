//go:build !linux

package service

import (
	"errors"
	"net"
	"runtime"
)

// The BSDs and macOS have getpeereid(3) (LOCAL_PEERCRED); until it is
// wired here, Listen refuses to serve rather than serve without the check.
const peerCheckSupported = false

var errNoPeerCheck = errors.New("no peer-credential check on " + runtime.GOOS + " yet: refusing to listen")

func peerCred(c net.Conn) (uid, pid int, err error) {
	return 0, 0, errNoPeerCheck
}
