package proc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/futures-cli/futures/internal/platform"
)

// refusePidfd makes every clone that asks for a pidfd fail as a seccomp
// filter that refuses CLONE_PIDFD (or a kernel emulation without it) makes
// it fail: with errno and no child. It returns the count of such clones.
func refusePidfd(t *testing.T, errno syscall.Errno) *atomic.Int32 {
	t.Helper()
	var refused atomic.Int32
	saved := forkExec
	forkExec = func(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
		if attr.Sys != nil && attr.Sys.PidFD != nil {
			refused.Add(1)
			return 0, errno
		}
		return saved(path, argv, attr)
	}
	t.Cleanup(func() {
		forkExec = saved
		pidfdRefused.Store(false)
	})
	return &refused
}

// Under a seccomp filter that allows pidfd_open but refuses
// clone(CLONE_PIDFD) (as Go's os package checks for), a job is started
// again without asking for a pidfd, and the jobs after it do not ask: they
// go the way of a kernel without pidfds.
func TestAJobStartsWhenTheCloneRefusesAPidfd(t *testing.T) {
	if platform.Portable || !havePidfd() {
		t.Skip("no pidfd asked for here")
	}
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.EPERM, syscall.ENOSYS} {
		t.Run(errno.Error(), func(t *testing.T) {
			refused := refusePidfd(t, errno)
			for i, o := range []ExecOptions{
				{},                                 // no pipe: waitExit
				{Inline: true},                     // poll(2), as a worker
				{},                                 // the shared epoll set
				{Stdin: strings.NewReader("in\n")}, // reader goroutines
			} {
				var out execOut
				o.Stdout, o.Stderr = &out, &out
				if i == 0 {
					o.Stdout, o.Stderr = nil, nil
				}
				got := Exec(context.Background(), shellCmd(`read -r l || l=none; echo "$l"; exit 3`), o)
				if got.ExitCode != 3 || got.Err != nil {
					t.Fatalf("job %d: exit %d, %v; want 3 and no error", i, got.ExitCode, got.Err)
				}
				if want := map[bool]string{true: "in\n", false: "none\n"}[o.Stdin != nil]; i > 0 && out.String() != want {
					t.Errorf("job %d printed %q, want %q", i, out.String(), want)
				}
			}
			if n := refused.Load(); n != 1 {
				t.Errorf("%d clones asked for a pidfd, want 1: the first refusal is remembered", n)
			}
		})
	}
	// The same errno with and without the pidfd is the exec's: the job
	// fails with it, and pidfds are not given up for it.
	t.Run("an exec that fails the same way", func(t *testing.T) {
		saved := forkExec
		forkExec = func(string, []string, *syscall.ProcAttr) (int, error) { return 0, syscall.EPERM }
		t.Cleanup(func() {
			forkExec = saved
			pidfdRefused.Store(false)
		})
		got := Exec(context.Background(), argvCmd("true"), ExecOptions{})
		if got.ExitCode != 126 || !errors.Is(got.Err, syscall.EPERM) {
			t.Errorf("exit %d, %v; want 126 and EPERM", got.ExitCode, got.Err)
		}
		if pidfdRefused.Load() {
			t.Error("pidfds given up for an exec's own error")
		}
	})
}
