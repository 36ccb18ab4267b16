package runner

import (
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/record"
)

// The summary, its exit-code histogram and the counts the Observer (the
// progress bar) sees are one count: every job in exactly one of
// succeeded, failed, cancelled and timed out; every job that ended (not
// cancelled) in the histogram, with the exit code of its record.
func TestOneCountForTheSummaryTheHistogramAndTheBar(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   Options
		lines []string
		codes map[int]int // the histogram, when known
	}{
		{"a line that cannot be parsed is exit code 2", Options{Workers: 2},
			[]string{"true", "exit 3", "echo 'unterminated"}, map[int]int{0: 1, 3: 1, 2: 1}},
		{"the jobs of a broken pool are exit code -1", Options{Workers: 1, Initializer: "exit 1"},
			[]string{"true", "true", "true"}, nil},
		{"cancelled jobs are counted, but not in the histogram", Options{Workers: 1, FailFast: true},
			[]string{"exit 5", "true", "true"}, map[int]int{5: 1}},
		{"a timed-out job is in the histogram", Options{Workers: 1, JobTimeout: 50 * time.Millisecond},
			[]string{"exec sleep 30", "true"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, obs, out := runLines(t, tc.opt, tc.lines...)
			c := sum.Counts()
			if c.Done() != sum.Submitted || sum.Submitted == 0 {
				t.Errorf("%d counted, %d submitted: %s", c.Done(), sum.Submitted, sum)
			}
			if obs.counts != c {
				t.Errorf("the observer last saw %+v, the summary says %+v", obs.counts, c)
			}
			ended := 0
			for _, n := range sum.ExitCodes {
				ended += n
			}
			if ended != c.Succeeded+c.Failed+c.TimedOut {
				t.Errorf("the histogram has %d jobs, %d ended: %s", ended, c.Succeeded+c.Failed+c.TimedOut, sum)
			}
			for seq, r := range obs.recs {
				if r.State == future.Finished && r.Stop != record.StoppedByRun && sum.ExitCodes[r.ExitCode] == 0 {
					t.Errorf("job %d's exit code %d is not in the histogram: %s", seq, r.ExitCode, sum)
				}
			}
			if tc.codes != nil && len(tc.codes) != len(sum.ExitCodes) {
				t.Errorf("%s; want exit codes %v", sum, tc.codes)
			}
			for code, n := range tc.codes {
				if sum.ExitCodes[code] != n {
					t.Errorf("%s; want exit codes %v", sum, tc.codes)
				}
			}
			if t.Failed() {
				t.Logf("output: %s", out)
			}
		})
	}
}
