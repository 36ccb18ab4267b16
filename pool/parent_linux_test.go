package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/pool/job"
)

// TestAWorkerWhoseParentDiesKillsItsJobAndExits runs the watchdog that
// stands in for Pdeathsig on macOS: the worker (FUTURES_FORCE_PORTABLE=1,
// as macOS) runs under a shell that is its parent, its stdin held open by
// the runner; the shell is KILLed mid-job. The worker must notice, KILL
// its job's group and exit.
func TestAWorkerWhoseParentDiesKillsItsJobAndExits(t *testing.T) {
	l := testLauncher(t)
	pidFile := filepath.Join(t.TempDir(), "parent")
	// In the background, the worker keeps the shell's stdin only by an
	// explicit redirection (sh gives a background job /dev/null).
	l.Command = append([]string{"/bin/sh", "-c", `echo $$ > "$0"; exec 3<&0; "$@" <&3 3<&- & wait`, pidFile}, l.Command...)
	l.Env = append(l.Env, platform.ForceEnv+"=1")
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: l})
	pids := make(chan []int, 1)
	running := psubmit(t, p, func(ctx context.Context) (string, error) {
		o, err := RunJob(ctx, job.Spec{Line: "sleep 30 & echo $$ $! $PPID; wait", Shell: true}, &pidWriter{ch: pids}, nil, nil)
		return o.Signal, err
	})
	var got []int
	within(t, "the job to start", func() { got = <-pids })
	shell, child, worker := got[0], got[1], got[2]
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || parent == worker {
		t.Fatalf("the worker's parent: %q, %v (worker %d)", b, err, worker)
	}
	if err := syscall.Kill(parent, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{shell, child, worker} {
		waitFor(t, fmt.Sprintf("process %d to be gone", pid), func() bool { return gone(pid) })
	}
	// The worker reports its job KILLed before it exits, or dies first.
	if sig, err := result(t, running); sig == "" && !errors.Is(err, ErrBrokenProcessPool) {
		t.Fatalf("the job's future: signal %q, error %v; want the job killed or ErrBrokenProcessPool", sig, err)
	}
}

func TestParentWatchPeriod(t *testing.T) {
	for _, tc := range []struct {
		name     string
		portable bool
		set      time.Duration
		want     time.Duration
	}{
		{"with Pdeathsig the default is no watch", false, 0, 0},
		{"without Pdeathsig the default is every 100 ms", true, 0, 100 * time.Millisecond},
		{"a period given is kept", false, 5 * time.Millisecond, 5 * time.Millisecond},
		{"below 0 is never", true, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := platform.Portable
			platform.Portable = tc.portable
			t.Cleanup(func() { platform.Portable = saved })
			if got := parentWatchPeriod(tc.set); got != tc.want {
				t.Errorf("parentWatchPeriod(%v) = %v, want %v", tc.set, got, tc.want)
			}
		})
	}
}
