package service

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/internal/testwait"
)

// A service's running futures hold no goroutine each (Linux: their
// processes are waited for in the shared epoll set, proc.Start): a
// service at -j1000 holds a thousand small structs, not a thousand parked
// goroutines and their stacks. Terminated, they all finish, by the signal.
func TestRunningFuturesHoldNoGoroutine(t *testing.T) {
	if platform.Portable {
		t.Skip("jobs wait on goroutines with the portable paths")
	}
	const n = 40
	ex, _ := newTestExecutor(t, n)
	ctx := context.Background()
	before := runtime.NumGoroutine()
	lines := make([]string, n)
	for i := range lines {
		lines[i] = "exec sleep 600"
	}
	ids := submitLines(t, ex, lines...)
	awaitRunning(t, ex, ids)
	// A goroutine's exit has no event: the count is looked at until it
	// holds, a minute bounding the wait.
	testwait.Until(t, time.Minute, "the running futures to hold no goroutine", func() (bool, string) {
		_, running := ex.Counts()
		extra := runtime.NumGoroutine() - before
		return running == n && extra <= n/4, fmt.Sprintf("%d running, %d goroutines more than before, want at most %d", running, extra, n/4)
	})
	res, err := ex.Cancel(ctx, ids, true, 0)
	if err != nil || len(res.Terminated) != n {
		t.Fatalf("Cancel --terminate: %+v, %v", res, err)
	}
	fs, err := ex.Wait(ctx, ids, AllCompleted, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.State != future.Finished || !strings.HasPrefix(f.Signal, "SIG") {
			t.Errorf("%%%d: %v, signal %q; want FINISHED by a signal", f.ID, f.State, f.Signal)
		}
	}
}
