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
	"github.com/futures-cli/futures/runner/shell"
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
	refuseWatch(t, func(link string) bool {
		if link != "anon_inode:[pidfd]" {
			return false
		}
		refused.Add(1)
		return true
	})
	for _, run := range runners {
		refused.Store(0)
		checkPumped(t, run)
	}
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
	refuseWatch(t, func(link string) bool {
		// The second pipe, stderr's: the first is in the set by then.
		return strings.HasPrefix(link, "pipe:") && refused.Add(1) == 2
	})
	for _, run := range runners {
		refused.Store(0)
		checkPumped(t, run)
	}
	if refused.Load() < 2 {
		t.Error("no pipe was refused: the test tests nothing")
	}
}

// runners are the two ways of running a job whose refusals
// checkPumped checks: Exec, and Start (whose job no goroutine waits for).
var runners = []struct {
	name string
	run  func(context.Context, shell.Command, ExecOptions) <-chan job.Outcome
}{
	{"Exec", execAsync},
	{"Start", func(ctx context.Context, c shell.Command, o ExecOptions) <-chan job.Outcome {
		ch := make(chan job.Outcome, 1)
		Start(ctx, c, o, func(out job.Outcome) { ch <- out })
		return ch
	}},
}

// checkPumped runs, with runner's run, a job that writes more than a pipe
// holds (64 KiB) to stdout, so that it ends only if its output is read,
// then a line to stderr, and exits 4; it fails t unless the job ends with
// all of it.
func checkPumped(t *testing.T, runner struct {
	name string
	run  func(context.Context, shell.Command, ExecOptions) <-chan job.Outcome
}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr execOut
	ch := runner.run(ctx, shellCmd(`head -c 300000 /dev/zero; echo err >&2; exit 4`), ExecOptions{Stdout: &stdout, Stderr: &stderr})
	var out job.Outcome
	select {
	case out = <-ch:
	case <-time.After(patience): // a hang detector only
		cancel() // KILLs the job, which ends the wait
		<-ch
		t.Fatalf("%s: the job did not end within %v: its output was not read", runner.name, patience)
	}
	if out.ExitCode != 4 || out.Err != nil || len(stdout.String()) != 300000 || stderr.String() != "err\n" {
		t.Errorf("%s: exit %d, %v, %d bytes of stdout, stderr %q; want 4, no error, 300000, \"err\\n\"",
			runner.name, out.ExitCode, out.Err, len(stdout.String()), stderr.String())
	}
}

// refuseWatch has the shared epoll set refuse (ENOSPC, as past
// fs.epoll.max_user_watches) each descriptor whose /proc/self/fd link
// refuse says to, for the rest of the test.
func refuseWatch(t *testing.T, refuse func(link string) bool) {
	saved := epollCtl
	epollCtl = func(ep, op, fd int, ev *unix.EpollEvent) error {
		if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && refuse(l) {
			return unix.ENOSPC
		}
		return saved(ep, op, fd, ev)
	}
	t.Cleanup(func() { epollCtl = saved })
}
