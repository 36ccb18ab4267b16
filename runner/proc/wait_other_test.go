//go:build !linux

package proc

import (
	"testing"

	"golang.org/x/sys/unix"
)

// forEachWait runs f with the system's wait: the portable one, wait4.
func forEachWait(t *testing.T, f func(t *testing.T)) { f(t) }

// waitZombie waits for pid to exit without reaping it: kqueue's
// EVFILT_PROC NOTE_EXIT.
func waitZombie(t *testing.T, pid int) {
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

// TestExecInline runs, with ExecOptions.Inline, the cases of output and
// cancellation that the goroutine readers are tested for.
func TestExecInline(t *testing.T) { testExecInline(t) }
