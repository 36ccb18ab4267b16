package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool"
)

// oneSlot is a Slots of one slot.
type oneSlot chan struct{}

func (s oneSlot) Acquire(ctx context.Context) (func(), error) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestAPanicAfterAJobEndedGivesBackItsSlot(t *testing.T) {
	// The job whose end panics held the one slot of opt.Slots (a
	// service's, under --attach): the next job waits for it. The panic
	// skipped the continuations that give it back.
	for _, ex := range []string{ThreadExecutor, ProcessExecutor} {
		t.Run(ex, func(t *testing.T) {
			opt := Options{Executor: ex, Output: Line, Workers: 1, WriteHook: panicHook{word: "unended"}, Slots: make(oneSlot, 1)}
			if ex == ProcessExecutor {
				opt.Hosts = []pool.Host{{Name: ":", Launcher: workerLauncher(t), Workers: 1}}
			}
			type ran struct {
				sum *Summary
				obs *collect
				out string
			}
			ch := make(chan ran, 1)
			go func() {
				sum, obs, out := runLines(t, opt, "printf unended", "echo after")
				ch <- ran{sum, obs, out}
			}()
			select {
			case r := <-ch:
				if r.sum.Failed != 1 || r.sum.Succeeded != 1 || !strings.Contains(r.out, "after\n") {
					t.Fatalf("%s\n%s", r.sum, r.out)
				}
				if rec := r.obs.recs[1]; rec.ExitCode != -1 || !strings.Contains(rec.Error, "panic: hook saw unended") {
					t.Fatalf("the panicking job's record: exit %d, error %q", rec.ExitCode, rec.Error)
				}
			case <-time.After(patience):
				t.Fatalf("the run still runs after %v: the next job waits for the slot", patience)
			}
		})
	}
}
