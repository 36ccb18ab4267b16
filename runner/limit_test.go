package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/futures-cli/futures/pool/job"
)

// refusedOutcome is what a start the system refused with errno reports.
func refusedOutcome(errno syscall.Errno) job.Outcome {
	return job.Outcome{ExitCode: -1, Err: &os.PathError{Op: "fork/exec", Path: "/bin/true", Err: errno}, Refused: errno}
}

func TestGateRefusedStartWaitsForARunningJobThenStartsAgain(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN} {
		t.Run(job.RefusalName(errno), func(t *testing.T) {
			notes := make(noteWriter, 1)
			g := newGate(notes)
			// Another job runs; the system refuses this one's first start.
			if _, err := g.enter(context.Background()); err != nil {
				t.Fatal(err)
			}
			var other atomic.Bool // the other job has ended
			calls := 0
			var out job.Outcome
			var wg sync.WaitGroup
			wg.Go(func() {
				out = doSync(g, context.Background(), func(refusable bool) job.Outcome {
					calls++
					if calls == 1 {
						return refusedOutcome(errno)
					}
					if !other.Load() {
						t.Errorf("started again before the running job ended")
					}
					if !refusable {
						t.Errorf("started again as a last try, though a job was running")
					}
					return job.Outcome{ExitCode: 0}
				})
			})
			// The gate writes its note once it has taken the refusal in
			// (the other job still running): only then does that job end.
			// Ended sooner, it would have freed what the start lacked, and
			// the gate starts again with no note.
			want := "futures: the system refused more processes/files (" + job.RefusalName(errno) + "): running at most 1 jobs at once\n"
			if note := <-notes; note != want {
				t.Errorf("note %q, want %q", note, want)
			}
			other.Store(true)
			g.leave()
			wg.Wait()
			if out.ExitCode != 0 || out.Refused != 0 || calls != 2 {
				t.Fatalf("outcome %+v after %d starts, want exit 0 after 2", out, calls)
			}
			select {
			case note := <-notes:
				t.Fatalf("a second note %q", note)
			default:
			}
		})
	}
}

func TestGateRefusedStartAfterAJobEndedStartsAgainWithNoNote(t *testing.T) {
	var stderr bytes.Buffer
	g := newGate(&stderr)
	if _, err := g.enter(context.Background()); err != nil { // another job runs
		t.Fatal(err)
	}
	calls := 0
	out := doSync(g, context.Background(), func(refusable bool) job.Outcome {
		if calls++; calls == 1 {
			g.leave() // the other job ends while this one's start is refused
			return refusedOutcome(syscall.EMFILE)
		}
		if !refusable {
			t.Errorf("started again as a last try, though a job had ended since the refused start")
		}
		return job.Outcome{}
	})
	if out.ExitCode != 0 || calls != 2 {
		t.Fatalf("outcome %+v after %d starts, want exit 0 after 2", out, calls)
	}
	if stderr.Len() != 0 {
		t.Fatalf("a note though a job had ended: %q", stderr.String())
	}
}

func TestGateRefusedStartFailsWhenNothingElseRuns(t *testing.T) {
	var stderr bytes.Buffer
	g := newGate(&stderr)
	var tries []bool
	out := doSync(g, context.Background(), func(refusable bool) job.Outcome {
		tries = append(tries, refusable)
		if refusable {
			return refusedOutcome(syscall.EMFILE)
		}
		return job.Outcome{ExitCode: 126, Err: errors.New("true: too many open files")}
	})
	if out.ExitCode != 126 || len(tries) != 2 || !tries[0] || tries[1] {
		t.Fatalf("outcome %+v after tries %v, want exit 126 after [true false]", out, tries)
	}
	if stderr.Len() != 0 {
		t.Fatalf("a note with nothing else running: %q", stderr.String())
	}
}

// noteWriter hands each write to a channel: the test waits on the note.
type noteWriter chan string

func (w noteWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

func TestGateAfterARefusalRunsAtMostAsManyAsRanThen(t *testing.T) {
	notes := make(noteWriter, 1)
	g := newGate(notes)
	for range 2 { // two jobs run
		if _, err := g.enter(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		n := 0
		doSync(g, context.Background(), func(bool) job.Outcome {
			if n++; n == 1 {
				return refusedOutcome(syscall.EAGAIN) // the limit is now 2
			}
			close(started)
			return job.Outcome{}
		})
	})
	if note := <-notes; !strings.Contains(note, "(EAGAIN): running at most 2 jobs at once") {
		t.Fatalf("note %q", note)
	}
	// Nothing has ended: a new job may not enter while two run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.enter(ctx); err == nil {
		t.Fatal("a third job entered while two ran after the system refused one")
	}
	g.leave() // one of the two ends: the refused job starts again
	<-started
	wg.Wait()
}

func TestGateARefusalWhileWaitingEndsWithTheContext(t *testing.T) {
	g := newGate(&bytes.Buffer{})
	if _, err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ctxEnded []bool
	out := doSync(g, ctx, func(bool) job.Outcome {
		ctxEnded = append(ctxEnded, ctx.Err() != nil)
		if len(ctxEnded) == 1 {
			cancel() // Ctrl-C while it is refused
			return refusedOutcome(syscall.EMFILE)
		}
		return job.Outcome{ExitCode: -1, Canceled: true}
	})
	if !out.Canceled || len(ctxEnded) != 2 || !ctxEnded[1] {
		t.Fatalf("outcome %+v, starts with ctx ended %v: want a cancelled outcome from a second start with ctx ended", out, ctxEnded)
	}
}

func TestRefusalNamesTheSystemsLimits(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"too many open files", &os.SyscallError{Syscall: "pipe2", Err: syscall.EMFILE}, syscall.EMFILE},
		{"too many open files in the system", syscall.ENFILE, syscall.ENFILE},
		{"too many processes", &os.PathError{Op: "fork/exec", Path: "/bin/true", Err: syscall.EAGAIN}, syscall.EAGAIN},
		{"EBADF from fork/exec is EMFILE in disguise", &os.PathError{Op: "fork/exec", Path: "/bin/true", Err: syscall.EBADF}, syscall.EMFILE},
		{"EBADF elsewhere is not a limit", &os.PathError{Op: "read", Path: "x", Err: syscall.EBADF}, 0},
		{"not found is not a limit", &os.PathError{Op: "fork/exec", Path: "/x", Err: syscall.ENOENT}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusedBy(tt.err); got != tt.want {
				t.Fatalf("refusedBy(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// doSync is g.do with a start that returns its outcome: do calls its
// continuation before it returns.
func doSync(g *gate, ctx context.Context, start func(refusable bool) job.Outcome) job.Outcome {
	var out job.Outcome
	g.do(ctx, func(refusable bool, k func(job.Outcome)) { k(start(refusable)) }, func(o job.Outcome) { out = o })
	return out
}
