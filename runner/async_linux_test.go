package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/runner/input"
)

// A run's running jobs hold no goroutine each (the thread executor, on
// Linux: the pool's task goes on without its worker, pool.Later, and the
// job is waited for in the shared epoll set, proc.Start): at -j1000 that
// is a thousand small structs, not a thousand parked goroutines and their
// stacks. The run still ends each job with its record: cancelled here.
func TestRunningJobsHoldNoGoroutine(t *testing.T) {
	if platform.Portable {
		t.Skip("jobs wait on goroutines with the portable paths")
	}
	const n = 40
	dir := t.TempDir()
	lines := make([]string, n)
	for i := range lines {
		lines[i] = "touch '" + filepath.Join(dir, "started-") + "'$FUTURES_SEQ; exec sleep 600"
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	opt := Options{Workers: n, Stdout: &out, Stderr: &out, Grace: time.Second}
	src := input.SubmitSource(input.NewReader(strings.NewReader(strings.Join(lines, "\n")), '\n'))
	ended := make(chan *Summary, 1)
	go func() { ended <- Run(ctx, opt, src) }()
	deadline := time.Now().Add(patience) // a hang detector only
	for {
		started, _ := filepath.Glob(filepath.Join(dir, "started-*"))
		extra := runtime.NumGoroutine() - before
		if len(started) == n && extra <= n/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs started; %d goroutines more than before the run (want at most %d)", len(started), n, extra, n/4)
		}
		time.Sleep(5 * time.Millisecond) // polls the count; the deadline bounds it
	}
	cancel()
	var sum *Summary
	select {
	case sum = <-ended:
	case <-time.After(patience):
		t.Fatal("the run did not end once cancelled")
	}
	if sum.Submitted != n || sum.Cancelled+sum.Failed != n {
		t.Errorf("%s; want %d jobs, each stopped", sum, n)
	}
	_ = os.RemoveAll(dir)
}
