package proc

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/pool/job"
)

// A job whose pidfd the shared epoll set refuses (ENOSPC: past
// fs.epoll.max_user_watches; ENOMEM) still has its output read while it
// runs, and its exit seen: it is waited for as without a pidfd, not by a
// wait that reads no pipe while a job fills one.
func TestAJobWhosePidfdTheSetRefusesIsStillPumped(t *testing.T) {
	if platform.Portable || !havePidfd() {
		t.Skip("no pidfd to watch here")
	}
	var refused atomic.Int32
	saved := epollCtl
	epollCtl = func(ep, op, fd int, ev *unix.EpollEvent) error {
		if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && l == "anon_inode:[pidfd]" {
			refused.Add(1)
			return unix.ENOSPC
		}
		return saved(ep, op, fd, ev)
	}
	t.Cleanup(func() { epollCtl = saved })
	checkPumped(t)
	if refused.Load() == 0 {
		t.Error("no pidfd was refused: the test tests nothing")
	}
}

// A job whose output pipe the shared epoll set refuses (ENOSPC, past
// fs.epoll.max_user_watches; ENOMEM) runs all the same: its pipes are read
// through poll(2), as where there is no set, instead of the job failing to
// start ("output pipe: no space left on device", exit 126).
func TestAJobWhosePipeTheSetRefusesStillRuns(t *testing.T) {
	if platform.Portable {
		t.Skip("no epoll set with the portable paths forced")
	}
	var refused atomic.Int32
	saved := epollCtl
	epollCtl = func(ep, op, fd int, ev *unix.EpollEvent) error {
		if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && strings.HasPrefix(l, "pipe:") {
			// The second pipe, stderr's: the first is in the set by then.
			if refused.Add(1) == 2 {
				return unix.ENOSPC
			}
		}
		return saved(ep, op, fd, ev)
	}
	t.Cleanup(func() { epollCtl = saved })
	checkPumped(t)
	if refused.Load() < 2 {
		t.Error("no pipe was refused: the test tests nothing")
	}
}

// checkPumped runs a job that writes more than a pipe holds (64 KiB) to
// stdout, so that it ends only if its output is read, then a line to
// stderr, and exits 4; it fails t unless Exec returns with all of it.
func checkPumped(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr execOut
	ch := execAsync(ctx, shellCmd(`head -c 300000 /dev/zero; echo err >&2; exit 4`), ExecOptions{Stdout: &stdout, Stderr: &stderr})
	var out job.Outcome
	select {
	case out = <-ch:
	case <-time.After(patience): // a hang detector only
		cancel() // KILLs the job, which ends the wait
		<-ch
		t.Fatalf("Exec did not return within %v: the job's output was not read", patience)
	}
	if out.ExitCode != 4 || out.Err != nil || len(stdout.String()) != 300000 || stderr.String() != "err\n" {
		t.Errorf("exit %d, %v, %d bytes of stdout, stderr %q; want 4, no error, 300000, \"err\\n\"",
			out.ExitCode, out.Err, len(stdout.String()), stderr.String())
	}
}
