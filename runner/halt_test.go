package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/input"
)

// patience bounds every wait of this package's tests that is not itself
// under test: a test that needs it has hung. It is generous, so that a
// loaded machine (a -race build, other packages tested at once) never runs
// out of it; no test asserts a wall-clock bound tighter than it.
const patience = time.Minute

func TestParseHalt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Halt
	}{
		{"never", Halt{}},
		{"0", Halt{}},
		{"now,fail=1", Halt{When: HaltNow, On: HaltFail, Count: 1}},
		{"soon,fail=3", Halt{When: HaltSoon, On: HaltFail, Count: 3}},
		{"now,success=2", Halt{When: HaltNow, On: HaltSuccess, Count: 2}},
		{"soon,done=50%", Halt{When: HaltSoon, On: HaltDone, Percent: 50}},
		{"now,fail=2.5%", Halt{When: HaltNow, On: HaltFail, Percent: 2.5}},
		{"1", Halt{When: HaltSoon, On: HaltFail, Count: 1}},
		{"2", Halt{When: HaltNow, On: HaltFail, Count: 1}},
		{"-1", Halt{When: HaltSoon, On: HaltSuccess, Count: 1}},
		{"-2", Halt{When: HaltNow, On: HaltSuccess, Count: 1}},
		{"10%", Halt{When: HaltSoon, On: HaltFail, Percent: 10}},
	} {
		got, err := ParseHalt(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseHalt(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if err == nil && c.in != "0" && strings.Contains(c.in, ",") && got.String() != c.in {
			t.Errorf("ParseHalt(%q).String() = %q", c.in, got.String())
		}
	}
	for _, bad := range []string{"", "later,fail=1", "now", "now,fail", "now,fail=0", "now,oops=1", "soon,fail=101%", "soon,fail=-1", "now,fail=x"} {
		if _, err := ParseHalt(bad); err == nil {
			t.Errorf("ParseHalt(%q): no error", bad)
		}
	}
}

// collect is an Observer that keeps every record, and the last counts.
type collect struct {
	mu     sync.Mutex
	recs   map[int]*Result
	counts Counts
}

func (c *collect) Total(int) {}
func (c *collect) Finished(r *Result, n Counts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs == nil {
		c.recs = map[int]*Result{}
	}
	c.recs[r.Seq] = r
	c.counts = n
}

// runLines runs each line of lines as a command, with opt.
func runLines(t *testing.T, opt Options, lines ...string) (*Summary, *collect, string) {
	t.Helper()
	var out, errb bytes.Buffer
	obs := &collect{}
	opt.Stdout, opt.Stderr, opt.Observer = &out, &errb, obs
	if opt.Grace == 0 {
		opt.Grace = 2e9
	}
	src := input.SubmitSource(input.NewReader(strings.NewReader(strings.Join(lines, "\n")), '\n'), input.SubmitOptions{})
	sum := Run(context.Background(), opt, src)
	return sum, obs, out.String() + errb.String()
}

// events is a directory where a run's progress shows as files, for jobs
// to wait on: "read" once the run has read every line and told its
// observer the total (the halter, which a percentage needs the total for,
// is told before: it wraps the observer), "done-N" once job N's record is
// out (so its judgement by --halt is made: a job is judged before its
// record goes out).
type events string

// waitFor is a shell command that waits for the file name of ev to appear,
// giving up after patience.
func (ev events) waitFor(name string) string {
	f := filepath.Join(string(ev), name)
	return fmt.Sprintf("i=0; while [ ! -e '%s' ] && [ $i -lt %d ]; do sleep 0.01; i=$((i+1)); done; ", f, int(patience/(10*time.Millisecond)))
}

// touch is a shell command that makes the file name of ev appear.
func (ev events) touch(name string) string {
	return fmt.Sprintf("touch '%s'; ", filepath.Join(string(ev), name))
}

// noting is an Observer that keeps the records and notes each in ev.
type noting struct {
	*collect
	ev events
}

// Total notes that the run has read its input and counted its jobs. The
// source's end comes sooner, before the halter knows the total: a job that
// waited only for that could end, and the run not halt on it.
func (n noting) Total(int) {
	_ = os.WriteFile(filepath.Join(string(n.ev), "read"), nil, 0o644)
}

func (n noting) Finished(r *Result, c Counts) {
	n.collect.Finished(r, c)
	_ = os.WriteFile(filepath.Join(string(n.ev), "done-"+strconv.Itoa(r.Seq)), nil, 0o644)
}

// runLinesNoting is runLines, with the run's progress noted in ev.
func runLinesNoting(t *testing.T, ev events, opt Options, lines ...string) (*Summary, *collect, string) {
	t.Helper()
	var out, errb bytes.Buffer
	obs := &collect{}
	opt.Stdout, opt.Stderr, opt.Observer = &out, &errb, noting{obs, ev}
	if opt.Grace == 0 {
		opt.Grace = 2e9
	}
	src := input.SubmitSource(input.NewReader(strings.NewReader(strings.Join(lines, "\n")), '\n'), input.SubmitOptions{})
	sum := Run(context.Background(), opt, src)
	return sum, obs, out.String() + errb.String()
}

// In these tests the first job waits until every job has been read, so
// that all are there when the run halts: input not read by then is never
// read. A job that must still run when another halts the run waits for the
// halting job's record.
func TestHalt(t *testing.T) {
	policy := func(s string) Halt {
		h, err := ParseHalt(s)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	t.Run("now,fail=1 cancels the pending jobs after the first failure", func(t *testing.T) {
		ev := events(t.TempDir())
		sum, _, _ := runLinesNoting(t, ev, Options{Workers: 1, Halt: policy("now,fail=1")}, ev.waitFor("read")+"exit 0", "exit 5", "exit 0", "exit 0")
		if sum.Succeeded != 1 || sum.Failed != 1 || sum.Cancelled != 2 || sum.ExitStatus() != 1 {
			t.Fatalf("%s; exit %d", sum, sum.ExitStatus())
		}
	})
	t.Run("now terminates the running jobs", func(t *testing.T) {
		// The first job runs past patience unless terminated; the second
		// fails once the first runs.
		ev := events(t.TempDir())
		sum, obs, _ := runLinesNoting(t, ev, Options{Workers: 2, Halt: policy("now,fail=1")}, ev.touch("running")+"sleep 120", ev.waitFor("running")+"exit 3")
		if sum.Failed != 1 || sum.Cancelled != 1 || sum.Wall >= patience {
			t.Fatalf("%s", sum)
		}
		if e := obs.recs[1].Error; !strings.Contains(e, "stopped by --halt now,fail=1") {
			t.Fatalf("the terminated job's error: %q", e)
		}
	})
	t.Run("soon lets the running jobs finish and starts no more", func(t *testing.T) {
		// The first job runs until the second has failed and so halted the
		// run; the second fails once the first runs.
		ev := events(t.TempDir())
		sum, obs, out := runLinesNoting(t, ev, Options{Workers: 2, Halt: policy("soon,fail=1")},
			ev.touch("running")+ev.waitFor("done-2")+"echo slow-done", ev.waitFor("running")+ev.waitFor("read")+"exit 4", "echo never1", "echo never2", "echo never3")
		if sum.Succeeded != 1 || sum.Failed != 1 || sum.Cancelled != 3 || sum.ExitStatus() != 1 {
			t.Fatalf("%s; exit %d", sum, sum.ExitStatus())
		}
		if !strings.Contains(out, "slow-done") || strings.Contains(out, "never") {
			t.Fatalf("output %q", out)
		}
		if obs.recs[1].State != future.Finished || !obs.recs[1].Succeeded() {
			t.Fatalf("the running job: %+v", obs.recs[1])
		}
	})
	t.Run("now,success=1 stops at the first success, exit 0", func(t *testing.T) {
		ev := events(t.TempDir())
		sum, _, _ := runLinesNoting(t, ev, Options{Workers: 1, Halt: policy("now,success=1")}, ev.waitFor("read")+"exit 0", "exit 0", "exit 0")
		if sum.Succeeded != 1 || sum.Cancelled != 2 || sum.ExitStatus() != 0 {
			t.Fatalf("%s; exit %d", sum, sum.ExitStatus())
		}
	})
	t.Run("soon,done=2 counts failures and successes", func(t *testing.T) {
		ev := events(t.TempDir())
		sum, _, _ := runLinesNoting(t, ev, Options{Workers: 1, Halt: policy("soon,done=2")}, ev.waitFor("read")+"exit 1", "exit 0", "exit 0", "exit 0")
		if sum.Succeeded != 1 || sum.Failed != 1 || sum.Cancelled != 2 {
			t.Fatalf("%s", sum)
		}
	})
	t.Run("fail=50% is half of all the jobs", func(t *testing.T) {
		ev := events(t.TempDir())
		sum, _, _ := runLinesNoting(t, ev, Options{Workers: 1, Halt: policy("now,fail=50%")}, ev.waitFor("read")+"exit 1", "exit 1", "exit 1", "exit 1")
		if sum.Failed != 2 || sum.Cancelled != 2 {
			t.Fatalf("%s", sum)
		}
	})
	t.Run("a job is judged after its retries", func(t *testing.T) {
		m := t.TempDir() + "/marker"
		sum, _, _ := runLines(t, Options{Workers: 1, Retries: 1, Halt: policy("now,fail=1")},
			"[ -e "+m+" ] || { touch "+m+"; exit 1; }", "exit 0")
		if sum.Succeeded != 2 || sum.Cancelled != 0 {
			t.Fatalf("%s", sum)
		}
	})
	t.Run("--fail-fast is now,fail=1 and says so", func(t *testing.T) {
		ev := events(t.TempDir())
		sum, obs, _ := runLinesNoting(t, ev, Options{Workers: 2, FailFast: true}, ev.touch("running")+"sleep 120", ev.waitFor("running")+"exit 2")
		if sum.Failed != 1 || sum.Cancelled != 1 {
			t.Fatalf("%s", sum)
		}
		if e := obs.recs[1].Error; !strings.Contains(e, ErrFailFast.Error()) {
			t.Fatalf("the terminated job's error: %q", e)
		}
	})
}
