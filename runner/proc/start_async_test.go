package proc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/shell"
)

// startAndWait runs c with Start and returns the outcome done was given.
func startAndWait(t *testing.T, ctx context.Context, c shell.Command, o ExecOptions) job.Outcome {
	t.Helper()
	ch := make(chan job.Outcome, 2)
	Start(ctx, c, o, func(out job.Outcome) { ch <- out })
	out := execResult(t, ch, patience)
	select {
	case <-ch:
		t.Error("done was called twice")
	default:
	}
	return out
}

// Start ends a job with the outcome Exec gives it: its exit status or
// signal, and its output, whole, in its writers or its files.
func TestStartGivesTheOutcomeExecGives(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     shell.Command
		files bool // stdout and stderr are files, handed to the job
	}{
		{"exit status and both streams", shellCmd(`echo out; echo err >&2; exit 3`), false},
		{"more output than a pipe holds", shellCmd(`head -c 300000 /dev/zero; echo end`), false},
		{"killed by a signal", shellCmd(`echo before; kill -TERM $$`), false},
		{"not found", argvCmd("/nonexistent/futures-test-program"), false},
		{"output to files", shellCmd(`echo out; echo err >&2; exit 5`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(start bool) (job.Outcome, string, string) {
				var o ExecOptions
				var stdout, stderr execOut
				var fo, fe *os.File
				if tc.files {
					dir := t.TempDir()
					var err error
					if fo, err = os.Create(filepath.Join(dir, "out")); err != nil {
						t.Fatal(err)
					}
					if fe, err = os.Create(filepath.Join(dir, "err")); err != nil {
						t.Fatal(err)
					}
					defer fo.Close()
					defer fe.Close()
					o.Stdout, o.Stderr = fo, fe
				} else {
					o.Stdout, o.Stderr = &stdout, &stderr
				}
				var out job.Outcome
				if start {
					out = startAndWait(t, context.Background(), tc.c, o)
				} else {
					out = Exec(context.Background(), tc.c, o)
				}
				if tc.files {
					b1, _ := os.ReadFile(fo.Name())
					b2, _ := os.ReadFile(fe.Name())
					return out, string(b1), string(b2)
				}
				return out, stdout.String(), stderr.String()
			}
			want, wout, werr := run(false)
			got, gout, gerr := run(true)
			if got.ExitCode != want.ExitCode || got.Signal != want.Signal || (got.Err == nil) != (want.Err == nil) {
				t.Errorf("Start: exit %d, signal %q, error %v; Exec: exit %d, signal %q, error %v",
					got.ExitCode, got.Signal, got.Err, want.ExitCode, want.Signal, want.Err)
			}
			if gout != wout || gerr != werr {
				t.Errorf("Start: %d bytes of stdout, stderr %q; Exec: %d bytes, stderr %q", len(gout), gerr, len(wout), werr)
			}
			if got.Start.IsZero() != want.Start.IsZero() {
				t.Errorf("Start: start time %v; Exec: %v", got.Start, want.Start)
			}
		})
	}
}

// Many short jobs started at once each end once, with their exit status:
// a job may end, and its end's goroutine run, before Start has returned.
func TestStartManyShortJobs(t *testing.T) {
	const n = 300
	outs := make(chan job.Outcome, n)
	for range n {
		Start(context.Background(), argvCmd("true"), ExecOptions{}, func(o job.Outcome) { outs <- o })
	}
	for range n {
		if o := execResult(t, outs, patience); o.ExitCode != 0 || o.Err != nil {
			t.Errorf("a short job: exit %d, %v", o.ExitCode, o.Err)
		}
	}
}
