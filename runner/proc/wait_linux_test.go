package proc

import (
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
)

// forEachWait runs f with Linux's wait (waitid WNOWAIT, a pidfd) and with
// the portable one that macOS and FreeBSD use (wait4), forced here.
func forEachWait(t *testing.T, f func(t *testing.T)) {
	for _, mode := range []struct {
		name     string
		portable bool
	}{{"waitid and pidfd (Linux)", false}, {"wait4 (portable: macOS, FreeBSD)", true}} {
		t.Run(mode.name, func(t *testing.T) {
			saved := platform.Portable
			platform.Portable = mode.portable
			t.Cleanup(func() { platform.Portable = saved })
			f(t)
		})
	}
}

// waitZombie waits for pid to exit without reaping it.
func waitZombie(t *testing.T, pid int) {
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

func TestWaitExitLeavesAZombieOnLinuxAndReapsWithRusageWhenPortable(t *testing.T) {
	forEachWait(t, func(t *testing.T) {
		pid, pidfd, err := startProcess("/bin/sh", []string{"sh", "-c", "exit 7"}, &os.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		if pidfd >= 0 {
			defer syscall.Close(pidfd)
		}
		if (pidfd >= 0) == platform.Portable {
			t.Errorf("pidfd %d with Portable %v", pidfd, platform.Portable)
		}
		st := waitExit(pid, pidfd)
		if !platform.Portable {
			if st != nil {
				t.Fatalf("waitExit returned %+v, want nil: the process left a zombie", st)
			}
			st = wait4(pid)
		} else if _, err := syscall.Wait4(pid, nil, syscall.WNOHANG, nil); err != syscall.ECHILD {
			t.Errorf("wait4 after waitExit: %v, want ECHILD (already reaped)", err)
		}
		if st == nil || st.err != nil || st.ws.ExitStatus() != 7 || st.ru.Maxrss <= 0 {
			t.Fatalf("got %+v, want exit status 7 and a rusage", st)
		}
	})
}

// TestExecInline runs, with ExecOptions.Inline, the cases of output and
// cancellation that the goroutine readers are tested for, with and without
// a pidfd to watch the job's exit.
func TestExecInline(t *testing.T) {
	for _, mode := range []string{"pidfd", "no pidfd", "portable wait4"} {
		t.Run(mode, func(t *testing.T) {
			switch mode {
			case "no pidfd":
				saved := havePidfd
				havePidfd = func() bool { return false } // as Linux before 5.3
				t.Cleanup(func() { havePidfd = saved })
			case "portable wait4":
				saved := platform.Portable
				platform.Portable = true // as macOS and FreeBSD: no pidfd, wait4
				t.Cleanup(func() { platform.Portable = saved })
			}
			testExecInline(t)
		})
	}
}
