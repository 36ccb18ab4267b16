package cmd

import (
	"testing"
	"time"

	"github.com/futures-cli/futures/runner"
)

func TestBarLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     runner.Counts
		total int
		width int
		want  string
	}{
		{"while the input is read, no percentage and no ETA", runner.Counts{Succeeded: 3, Failed: 1}, -1, 200,
			"jobs 4/? (1 failed) 2.0 jobs/s"},
		{"a known total: the bar, the counts, rate and ETA", runner.Counts{Succeeded: 2, Failed: 1, TimedOut: 1}, 10, 200,
			"jobs  40% |████████            | 4/10 (1 failed, 1 timed out) 2.0 jobs/s ETA 3s"},
		{"every job done is 100%", runner.Counts{Succeeded: 1, Cancelled: 3}, 4, 200,
			"jobs 100% |████████████████████| 4/4 (3 cancelled) 2.0 jobs/s ETA 0s"},
		{"no jobs at all is done", runner.Counts{}, 0, 200,
			"jobs 100% |████████████████████| 0/0 0.0 jobs/s ETA 0s"},
		{"cut to the terminal's width", runner.Counts{Succeeded: 4}, 4, 12,
			"jobs 100% |█"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := barLine(tc.c, tc.total, 2*time.Second, tc.width); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
