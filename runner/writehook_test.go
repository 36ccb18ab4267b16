package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/input"
)

// recordingHook checks that BeforeWrite and AfterWrite come in pairs per
// writer, and keeps what AfterWrite saw.
type recordingHook struct {
	t    *testing.T
	mu   sync.Mutex
	open map[io.Writer]bool
	seen map[io.Writer]*bytes.Buffer
}

func (h *recordingHook) BeforeWrite(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open[w] {
		h.t.Error("BeforeWrite twice without AfterWrite")
	}
	h.open[w] = true
}

func (h *recordingHook) AfterWrite(w io.Writer, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open[w] {
		h.t.Error("AfterWrite without BeforeWrite")
	}
	h.open[w] = false
	if h.seen[w] == nil {
		h.seen[w] = &bytes.Buffer{}
	}
	h.seen[w].Write(p)
}

func TestWriteHookSeesEveryWrite(t *testing.T) {
	for _, mode := range []OutputMode{Group, Line} {
		var out, errb bytes.Buffer
		h := &recordingHook{t: t, open: map[io.Writer]bool{}, seen: map[io.Writer]*bytes.Buffer{}}
		src := input.SubmitSource(input.NewReader(strings.NewReader("echo a; echo b >&2\necho c\n"), '\n'), input.SubmitOptions{})
		sum := Run(t.Context(), Options{Workers: 2, Output: mode, Stdout: &out, Stderr: &errb, WriteHook: h}, src)
		if sum.Succeeded != 2 {
			t.Fatalf("%s", sum)
		}
		if h.seen[&out] == nil || h.seen[&out].String() != out.String() || h.seen[&errb].String() != errb.String() {
			t.Fatalf("the hook saw %q and %q; written: %q and %q", h.seen[&out], h.seen[&errb], out.String(), errb.String())
		}
	}
}

// panicHook panics when it is told of a write of word.
type panicHook struct{ word string }

func (panicHook) BeforeWrite(io.Writer) {}

func (h panicHook) AfterWrite(_ io.Writer, p []byte) {
	if string(p) == h.word {
		panic("hook saw " + h.word)
	}
}

func TestAPanicAfterAJobEndedFailsThatJob(t *testing.T) {
	// The last line of a job with no newline at its end is written once
	// the job has ended, in the task's continuation: with the thread
	// executor, on a goroutine of proc.Start's, where a panic ended the
	// whole process. It fails the job, as a panic in a task does.
	opt := Options{Output: Line, Workers: 1, WriteHook: panicHook{word: "unended"}}
	sum, obs, out := runLines(t, opt, "printf unended", "echo after")
	if sum.Failed != 1 || sum.Succeeded != 1 {
		t.Fatalf("%s\n%s", sum, out)
	}
	if r := obs.recs[1]; r.ExitCode != -1 || !strings.Contains(r.Error, "panic: hook saw unended") {
		t.Fatalf("the panicking job's record: exit %d, error %q", r.ExitCode, r.Error)
	}
	if !strings.Contains(out, "after\n") {
		t.Fatalf("the next job's output is missing:\n%s", out)
	}
}

// containsPanicHook panics when it is told of a write that holds word.
type containsPanicHook struct{ word string }

func (containsPanicHook) BeforeWrite(io.Writer) {}

func (h containsPanicHook) AfterWrite(_ io.Writer, p []byte) {
	if strings.Contains(string(p), h.word) {
		panic("hook saw " + h.word)
	}
}

func TestPanicsBeforeJobsStartDoNotStopTheRun(t *testing.T) {
	// A program that is not found is said so on the task's goroutine,
	// before anything starts: the hook panics there, each time, and the
	// pool fails the job. Each of those tasks held one of the few turns to
	// start (run.starting) and never gave it back: the run hung at the
	// fifth.
	const n = 12
	lines := make([]string, n)
	for i := range lines {
		lines[i] = "futures-test-missing-program"
	}
	opt := Options{Output: Line, Workers: 1, WriteHook: containsPanicHook{word: "futures-test-missing-program"}}
	type ran struct {
		sum *Summary
		out string
	}
	ch := make(chan ran, 1)
	go func() {
		sum, _, out := runLines(t, opt, lines...)
		ch <- ran{sum, out}
	}()
	select {
	case r := <-ch:
		if r.sum.Failed != n {
			t.Fatalf("%s\n%s", r.sum, r.out)
		}
	case <-time.After(patience):
		t.Fatalf("the run still runs after %v", patience)
	}
}
