package cmd

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner"
)

// screen is what a terminal shows after out was written to it: lines of
// text, with carriage returns, newlines and the escape sequences that
// clear a line applied.
func screen(out []byte) []string {
	lines := [][]rune{nil}
	col := 0
	s := []rune(string(out))
	for i := 0; i < len(s); i++ {
		cur := &lines[len(lines)-1]
		switch r := s[i]; {
		case r == '\r':
			col = 0
		case r == '\n':
			lines = append(lines, nil)
			col = 0
		case r == '\x1b':
			j := i + 1
			for j < len(s) && !(s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z') {
				j++
			}
			if j < len(s) && s[j] == 'K' {
				if strings.HasPrefix(string(s[i:j]), "\x1b[2") {
					*cur = nil
				} else if col < len(*cur) {
					*cur = (*cur)[:col]
				}
			}
			i = j
		default:
			for len(*cur) <= col {
				*cur = append(*cur, ' ')
			}
			(*cur)[col] = r
			col++
		}
	}
	shown := make([]string, len(lines))
	for i, l := range lines {
		shown[i] = strings.TrimRight(string(l), " ")
	}
	for len(shown) > 0 && shown[len(shown)-1] == "" {
		shown = shown[:len(shown)-1]
	}
	return shown
}

var (
	barDone = regexp.MustCompile(`\((\d+)/`)
	barBad  = regexp.MustCompile(`(\d+) (failed|timed out|cancelled)`)
)

// overCounted returns the bars drawn in out that show more failed, timed
// out or cancelled jobs than jobs done.
func overCounted(out []byte) []string {
	var over []string
	for _, s := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
		m := barDone.FindStringSubmatch(s)
		if !strings.Contains(s, "jobs") || m == nil {
			continue
		}
		done, _ := strconv.Atoi(m[1])
		bad := 0
		for _, b := range barBad.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(b[1])
			bad += n
		}
		if bad > done {
			over = append(over, s)
		}
	}
	return over
}

// finish reports a job's record with the runner's counts c.
func finish(c runner.Counts) func(*progress) {
	return func(p *progress) { p.Finished(&runner.Result{}, c) }
}

// drawNow draws the bar as the redrawing goroutine would.
func drawNow(p *progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(time.Now())
}

// write writes b to the bar's terminal as the runner does, around its
// WriteHook.
func write(b string) func(*progress) {
	return func(p *progress) {
		p.BeforeWrite(p.out)
		_, _ = p.out.Write([]byte(b))
		p.AfterWrite(p.out, []byte(b))
	}
}

func total(n int) func(*progress) { return func(p *progress) { p.Total(n) } }

func TestTheBarShowsTheRunnersCountsAndStaysAtItsFinalState(t *testing.T) {
	type step = func(*progress)
	succeeded := func(from, to int, c runner.Counts) []step {
		var s []step
		for i := from; i <= to; i++ {
			c.Succeeded = i
			s = append(s, finish(c))
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  []string // regular expressions, one per line on the screen
	}{
		{"the total known after 45 of 50 jobs: 100% at 50 of 50",
			append(append(append(succeeded(1, 43, runner.Counts{Failed: 2}), drawNow, total(50)), drawNow),
				succeeded(44, 48, runner.Counts{Failed: 2})...),
			[]string{`^jobs \(2 failed\) 100% \|█+\| \(50/50, \d+ jobs/(s|min|hr)\)$`}},
		{"after Ctrl-C every job cancelled is done",
			[]step{total(4), finish(runner.Counts{Cancelled: 1}), drawNow, finish(runner.Counts{Cancelled: 2}),
				finish(runner.Counts{Cancelled: 3}), finish(runner.Counts{Cancelled: 4})},
			[]string{`^jobs \(4 cancelled\) 100% \|█+\| \(4/4, .*\)$`}},
		{"the last failure is on the final bar",
			[]step{total(3), finish(runner.Counts{Succeeded: 1}), drawNow, finish(runner.Counts{Succeeded: 1, TimedOut: 1}),
				drawNow, finish(runner.Counts{Succeeded: 1, TimedOut: 1, Failed: 1}), drawNow},
			[]string{`^jobs \(1 failed, 1 timed out\) 100% \|█+\| \(3/3, .*\)$`}},
		{"the total known after the last record",
			[]step{finish(runner.Counts{Succeeded: 1}), drawNow, finish(runner.Counts{Succeeded: 2}), drawNow, total(2)},
			[]string{`^jobs 100% \|█+\| \(2/2, .*\)$`}},
		{"while the input is read, no total",
			[]step{finish(runner.Counts{Succeeded: 1, Failed: 1}), drawNow},
			[]string{`^. jobs \(1 failed\) \(2/-, .*\) \[\d+s\]$`}},
		{"no job, no bar",
			[]step{drawNow, total(0)},
			nil},
		{"output cleared the final bar: drawn again below it",
			[]step{total(1), finish(runner.Counts{Succeeded: 1}), drawNow, write("a line\n")},
			[]string{`^a line$`, `^jobs 100% \|█+\| \(1/1, .*\)$`}},
		{"output that has not ended its line holds the bar off",
			[]step{total(2), finish(runner.Counts{Succeeded: 1}), drawNow, write("partial"),
				finish(runner.Counts{Succeeded: 2}), drawNow},
			[]string{`^partial$`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newTerminalProgress(nil, &out)
			for _, s := range tc.steps {
				s(p)
			}
			p.finish()
			got := screen(out.Bytes())
			if len(got) != len(tc.want) {
				t.Fatalf("screen %q, want %d lines %q\nwritten %q", got, len(tc.want), tc.want, out.String())
			}
			for i, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(got[i]) {
					t.Errorf("line %d %q, want %s\nwritten %q", i+1, got[i], re, out.String())
				}
			}
			if over := overCounted(out.Bytes()); len(over) > 0 {
				t.Errorf("bars with more failures than jobs done: %q", over)
			}
		})
	}
}

func TestScreenAppliesCarriageReturnsAndClears(t *testing.T) {
	got := screen([]byte("abcdef\rXY\n\rlong line\r\x1b[Kshort\nbar\r\x1b[2Kout\n"))
	want := []string{"XYcdef", "short", "out"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("screen %q, want %q", got, want)
	}
}

func TestBarDescription(t *testing.T) {
	for _, tc := range []struct {
		c    runner.Counts
		want string
	}{
		{runner.Counts{Succeeded: 3}, "jobs"},
		{runner.Counts{Succeeded: 3, Failed: 1}, "jobs (1 failed)"},
		{runner.Counts{Failed: 1, TimedOut: 2, Cancelled: 3}, "jobs (1 failed, 2 timed out, 3 cancelled)"},
		{runner.Counts{Cancelled: 4}, "jobs (4 cancelled)"},
	} {
		if got := barDescription(tc.c); got != tc.want {
			t.Errorf("barDescription(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// lineWriter hands each write, and when it began, to a channel: the test
// waits on the lines.
type lineWriter chan stampedLine

type stampedLine struct {
	text string
	at   time.Time
}

func (w lineWriter) Write(p []byte) (int, error) {
	w <- stampedLine{string(p), time.Now()}
	return len(p), nil
}

// startedPlainProgress is newPlainProgress, told the total before its
// goroutine starts: its first line says it.
func startedPlainProgress(w io.Writer, every, quiet time.Duration, total int) *progress {
	p := plainProgress(w, every, quiet)
	p.Total(total)
	p.redraws.Go(p.lines)
	return p
}

func TestPlainStatusLinesComeWhileJobsRun(t *testing.T) {
	// A CI log with long jobs stayed silent: a line was written only when
	// a job ended, and the last one came twice when a job ended then.
	const every, quiet = 10 * time.Millisecond, 200 * time.Millisecond
	lines := make(lineWriter, 16)
	next := func(want string) time.Time {
		t.Helper()
		select {
		case l := <-lines:
			if !strings.HasPrefix(l.text, want) {
				t.Fatalf("line %q, want it to start with %q", l.text, want)
			}
			return l.at
		case <-time.After(time.Minute):
			t.Fatalf("no line %q after a minute", want)
		}
		return time.Time{}
	}
	none := func(when string) {
		t.Helper()
		select {
		case l := <-lines:
			t.Fatalf("a line %s: %q", when, l.text)
		default:
		}
	}

	// No job ends: a line at first, then one once quiet has passed, not sooner.
	p := startedPlainProgress(lines, every, quiet, 3)
	first := next("futures: 0/3 done, 0 failed")
	if second := next("futures: 0/3 done, 0 failed"); second.Sub(first) < quiet-every {
		t.Fatalf("a line with nothing changed %v after the last one, want at least %v", second.Sub(first), quiet)
	}
	p.finish()
	for len(lines) > 0 { // a stalled test may have let quiet pass again
		<-lines
	}

	// Jobs end: a line for each change, and none at the end when the last
	// one says it all.
	p = startedPlainProgress(lines, every, time.Hour, 3)
	next("futures: 0/3 done, 0 failed")
	p.Finished(nil, runner.Counts{Succeeded: 1})
	next("futures: 1/3 done, 0 failed")
	p.Finished(nil, runner.Counts{Succeeded: 2, Failed: 1})
	next("futures: 3/3 done, 1 failed")
	p.finish()
	none("after the last one that says the same")

	// A run shorter than every: its one line comes at the end.
	p = startedPlainProgress(lines, time.Hour, time.Hour, 1)
	p.Finished(nil, runner.Counts{Succeeded: 1})
	p.finish()
	next("futures: 1/1 done, 0 failed")
	none("after the one at the end")
}
