package proc

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/pool/job"
)

// A job started with Start holds no goroutine while it runs and prints
// nothing (Linux: its pidfd and pipes are in the shared epoll set): a
// thousand of them would otherwise be a thousand parked goroutines and
// their stacks. Cancelling their context ends them all, each done called
// once with the job cancelled.
func TestStartedJobsHoldNoGoroutine(t *testing.T) {
	if platform.Portable || !havePidfd() {
		t.Skip("jobs wait on goroutines here (no pidfd, or the portable paths)")
	}
	const n = 40
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outs := make(chan job.Outcome, n)
	var stdout [n]execOut
	for i := range n {
		Start(ctx, shellCmd(`echo started; exec sleep 600`), ExecOptions{Stdout: &stdout[i]}, func(o job.Outcome) { outs <- o })
	}
	execEventually(t, patience, "every job to have started and printed", func() bool {
		for i := range stdout {
			if !strings.HasPrefix(stdout[i].String(), "started") {
				return false
			}
		}
		return true
	})
	execEventually(t, patience, "the running jobs to hold no goroutine", func() bool {
		return runtime.NumGoroutine()-before <= n/4
	})
	cancel()
	for range n {
		o := execResult(t, outs, patience)
		if !o.Canceled || o.Signal != "SIGKILL" {
			t.Errorf("a cancelled job: cancelled %v, signal %q; want true, SIGKILL", o.Canceled, o.Signal)
		}
	}
}
