package record

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/futures-cli/futures/future"
)

// Counts are the jobs of a run counted so far, by outcome. The runner
// counts each job once, as its record is emitted (Summary.Add); the
// Summary, the exit status and the Observer's progress all read these.
type Counts struct {
	Succeeded int
	Failed    int
	Cancelled int
	TimedOut  int
}

// Done is the number of jobs counted: every emitted record.
func (c Counts) Done() int { return c.Succeeded + c.Failed + c.Cancelled + c.TimedOut }

// Summary is what a run did, for the summary line and the exit status.
type Summary struct {
	Submitted int
	Succeeded int
	Failed    int
	Cancelled int
	TimedOut  int
	// ExitCodes counts the exit codes of the jobs that ended (succeeded,
	// failed or timed out; not the cancelled ones): a line that cannot be
	// parsed is 2, a job whose pool broke before it ran -1, as in their
	// records.
	ExitCodes map[int]int
	// Hosts counts the jobs each host ran, with remote workers.
	Hosts map[string]int
	Wall  time.Duration
	// Broken is the pool's Broken error, when it broke.
	Broken error
	// Deadline is true when the overall --timeout passed before every
	// future was done.
	Deadline bool
	// Signal is the signal that stopped the run, 0 if none.
	Signal syscall.Signal
	// Err is a fault of the runner itself (joblog not writable, …).
	Err error
}

// SetupError is a fault found before any job ran (a joblog that cannot be
// read or created): a usage error, exit status 2.
type SetupError struct{ Err error }

func (e SetupError) Error() string { return e.Err.Error() }
func (e SetupError) Unwrap() error { return e.Err }

// Add counts res, a record being emitted, in s: the one place a job is
// counted. Every job is in exactly one of succeeded, failed, cancelled
// and timed out; every job that ended (not cancelled) is in ExitCodes.
func (s *Summary) Add(res *Result) {
	switch {
	case res.Cancelled():
		s.Cancelled++
	case res.TimedOut():
		s.TimedOut++
	case res.Succeeded():
		s.Succeeded++
	default:
		s.Failed++
	}
	if res.State == future.Finished && res.Stop != StoppedByRun {
		if s.ExitCodes == nil {
			s.ExitCodes = make(map[int]int)
		}
		s.ExitCodes[res.ExitCode]++
	}
	if res.Host != "" && res.Started {
		if s.Hosts == nil {
			s.Hosts = make(map[string]int)
		}
		s.Hosts[res.Host]++
	}
}

// ExitStatus is the process exit status DESIGN.md defines: 128+N for a
// signal, 3 for a broken pool, 4 for the overall timeout, 1 for a failed
// job, 0 otherwise.
func (s *Summary) ExitStatus() int {
	var se SetupError
	switch {
	case errors.As(s.Err, &se):
		return 2
	case s.Signal != 0:
		return 128 + int(s.Signal)
	case s.Broken != nil:
		return 3
	case s.Deadline:
		return 4
	case s.Failed > 0 || s.TimedOut > 0 || s.Err != nil:
		return 1
	}
	return 0
}

// Counts returns the summary's counts of jobs.
func (s *Summary) Counts() Counts {
	return Counts{Succeeded: s.Succeeded, Failed: s.Failed, Cancelled: s.Cancelled, TimedOut: s.TimedOut}
}

// String renders the summary line.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "futures: %d succeeded, %d failed, %d cancelled, %d timed out in %s",
		s.Succeeded, s.Failed, s.Cancelled, s.TimedOut, s.Wall.Round(time.Millisecond))
	writeTally(&b, "exit codes", s.ExitCodes, strconv.Itoa)
	writeTally(&b, "hosts", s.Hosts, func(h string) string { return h })
	return b.String()
}

// writeTally writes "; LABEL: k1×n1 k2×n2…" for a non-empty m, its keys in
// order.
func writeTally[K cmp.Ordered](b *strings.Builder, label string, m map[K]int, name func(K) string) {
	if len(m) == 0 {
		return
	}
	b.WriteString("; " + label + ":")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, " %s×%d", name(k), m[k])
	}
}
