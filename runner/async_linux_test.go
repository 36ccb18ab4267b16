package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/internal/testwait"
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
	// Each job says it has started on a FIFO the test reads: opened for
	// reading and writing, it never ends while jobs open and close it.
	fifo := filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := make([]string, n)
	for i := range lines {
		lines[i] = "echo $FUTURES_SEQ > '" + fifo + "'; exec sleep 600"
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	opt := Options{Workers: n, Stdout: &out, Stderr: &out, Grace: time.Second}
	src := input.SubmitSource(input.NewReader(strings.NewReader(strings.Join(lines, "\n")), '\n'), input.SubmitOptions{})
	ended := make(chan *Summary, 1)
	go func() { ended <- Run(ctx, opt, src) }()
	started := bufio.NewScanner(f)
	for i := 0; i < n; i++ {
		if !started.Scan() {
			t.Fatalf("reading the jobs' starts: %v", started.Err())
		}
	}
	// A goroutine's exit has no event: the count is looked at until it
	// holds, the test's patience bounding the wait.
	testwait.Until(t, patience, "the running jobs to hold no goroutine", func() (bool, string) {
		extra := runtime.NumGoroutine() - before
		return extra <= n/4, fmt.Sprintf("%d goroutines more than before the run, want at most %d", extra, n/4)
	})
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
}
