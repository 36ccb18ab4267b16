package record

import (
	"errors"
	"syscall"
	"testing"

	"github.com/futures-cli/futures/future"
)

func TestExitStatusPriority(t *testing.T) {
	broken := errors.New("broken")
	tests := []struct {
		name string
		sum  Summary
		want int
	}{
		{"every job succeeded", Summary{Succeeded: 3}, 0},
		{"a failed job gives 1", Summary{Failed: 1}, 1},
		{"a timed-out job gives 1", Summary{TimedOut: 1}, 1},
		{"the overall deadline gives 4 over a failure", Summary{Failed: 1, Deadline: true}, 4},
		{"a broken pool gives 3 over the deadline", Summary{Broken: broken, Deadline: true, Failed: 1}, 3},
		{"a signal wins over everything", Summary{Signal: syscall.SIGINT, Broken: broken, Deadline: true}, 130},
		{"a setup fault is a usage error", Summary{Err: SetupError{Err: errors.New("joblog")}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sum.ExitStatus(); got != tt.want {
				t.Fatalf("ExitStatus() = %d, want %d", got, tt.want)
			}
		})
	}
}

// Each record is counted in exactly one of succeeded, failed, cancelled
// and timed out, and in the exit-code histogram when it ended.
func TestSummaryAddCountsEachRecordOnce(t *testing.T) {
	finished := func(code int, stop Stop) *Result {
		return &Result{State: future.Finished, Started: true, ExitCode: code, Stop: stop}
	}
	for _, tt := range []struct {
		name     string
		res      *Result
		want     Counts
		codes    map[int]int
		complete bool // gets a joblog row
	}{
		{"a job that exits 0 succeeded", finished(0, NotStopped), Counts{Succeeded: 1}, map[int]int{0: 1}, true},
		{"a job that exits 3 failed", finished(3, NotStopped), Counts{Failed: 1}, map[int]int{3: 1}, true},
		{"a job with an error failed, exit 0 or not", &Result{State: future.Finished, Started: true, Error: "writing output: disk full"},
			Counts{Failed: 1}, map[int]int{0: 1}, true},
		{"a line that cannot be parsed failed, exit 2", &Result{State: future.Finished, ExitCode: 2, Error: "unterminated quote"},
			Counts{Failed: 1}, map[int]int{2: 1}, false},
		{"--job-timeout: timed out, in the histogram, completed", finished(143, StoppedByJobTimeout),
			Counts{TimedOut: 1}, map[int]int{143: 1}, true},
		{"the overall --timeout: timed out, in the histogram, not completed", finished(143, StoppedByDeadline),
			Counts{TimedOut: 1}, map[int]int{143: 1}, false},
		{"terminated by the run: cancelled, not in the histogram", finished(143, StoppedByRun), Counts{Cancelled: 1}, nil, false},
		{"cancelled before it started", &Result{State: future.Cancelled, Stop: StoppedByRun}, Counts{Cancelled: 1}, nil, false},
		{"a cancelled future", &Result{State: future.Cancelled}, Counts{Cancelled: 1}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s Summary
			s.Add(tt.res)
			if s.Counts() != tt.want {
				t.Errorf("counts %+v, want %+v", s.Counts(), tt.want)
			}
			if len(s.ExitCodes) != len(tt.codes) {
				t.Errorf("exit codes %v, want %v", s.ExitCodes, tt.codes)
			}
			for c, n := range tt.codes {
				if s.ExitCodes[c] != n {
					t.Errorf("exit codes %v, want %v", s.ExitCodes, tt.codes)
				}
			}
			if got := tt.res.Completed(); got != tt.complete {
				t.Errorf("Completed() = %v, want %v", got, tt.complete)
			}
		})
	}
	t.Run("a host is counted when its job started there", func(t *testing.T) {
		var s Summary
		s.Add(&Result{State: future.Finished, Started: true, Host: "h1"})
		s.Add(&Result{State: future.Cancelled, Host: "h2"})
		if len(s.Hosts) != 1 || s.Hosts["h1"] != 1 {
			t.Errorf("hosts %v, want h1×1", s.Hosts)
		}
	})
}
