//go:build !linux

package pgroup

import (
	"testing"

	"golang.org/x/sys/unix"
)

// waitExit waits for pid to exit, leaving it a zombie (the group id stays
// reserved), as a caller of Reap does: kqueue's EVFILT_PROC NOTE_EXIT
// reports the exit without reaping.
func waitExit(t *testing.T, pid int) {
	t.Helper()
	kq, err := unix.Kqueue()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(kq)
	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	out := make([]unix.Kevent_t, 1)
	for {
		_, err := unix.Kevent(kq, []unix.Kevent_t{ev}, out, nil)
		switch err {
		case unix.EINTR:
			continue
		case nil, unix.ESRCH: // ESRCH: already exited
			return
		}
		t.Fatal(err)
	}
}
