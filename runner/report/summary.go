package report

import (
	"cmp"
	"slices"
	"time"
)

// Summary is what a report says beside its timeline.
type Summary struct {
	Jobs int
	// Counts are the jobs by outcome. The run's summary line counts a
	// killed job as failed: Failed() adds them.
	Counts [numOutcomes]int
	// Wall is the run's wall time: the span from the first start to the
	// last end, or the run's own when the report is made by the run.
	Wall time.Duration
	// Slots are the rows of the timeline with their busy share of Wall;
	// Utilisation is the busy share of all of them together.
	Slots       []SlotUse
	Utilisation float64
	// Slowest are the longest jobs, longest first (at most ten).
	Slowest []*Job
	// Last is the job that ended last, and Alone how long it ran with no
	// other job running (the tail of the run).
	Last  *Job
	Alone time.Duration
	// Failures are the jobs that failed, were killed or timed out, by
	// seq.
	Failures []*Job
}

// SlotUse is one worker slot's share of the run.
type SlotUse struct {
	Row
	Share float64
}

// Succeeded, Failed, TimedOut and Cancelled are the counts as the run's
// summary line gives them: a killed job is a failed one.
func (s *Summary) Succeeded() int { return s.Counts[Succeeded] }

// Failed counts the jobs that failed or were killed.
func (s *Summary) Failed() int { return s.Counts[Failed] + s.Counts[Killed] }

// TimedOut counts the jobs a timeout terminated.
func (s *Summary) TimedOut() int { return s.Counts[TimedOut] }

// Cancelled counts the jobs cancelled or terminated by the run.
func (s *Summary) Cancelled() int { return s.Counts[Cancelled] }

// Killed counts the failed jobs killed by a signal.
func (s *Summary) Killed() int { return s.Counts[Killed] }

// slowestN is how many of the slowest jobs a summary lists.
const slowestN = 10

// Summarize sums up jobs laid out in l. wall, when not zero, is the run's
// own wall time (the report of a run); zero takes the layout's span.
func Summarize(jobs []Job, l *Layout, wall time.Duration) Summary {
	s := Summary{Jobs: len(jobs), Wall: wall}
	if s.Wall <= 0 {
		s.Wall = l.Span
	}
	var busy time.Duration
	for _, r := range l.Rows {
		u := SlotUse{Row: r}
		if s.Wall > 0 {
			u.Share = float64(r.Busy) / float64(s.Wall)
		}
		busy += r.Busy
		s.Slots = append(s.Slots, u)
	}
	if s.Wall > 0 && len(l.Rows) > 0 {
		s.Utilisation = float64(busy) / float64(s.Wall) / float64(len(l.Rows))
	}
	var ran []*Job
	var otherEnd time.Time // the latest end of the jobs but the last
	for i := range jobs {
		j := &jobs[i]
		s.Counts[j.Outcome]++
		if j.Outcome == Failed || j.Outcome == Killed || j.Outcome == TimedOut {
			s.Failures = append(s.Failures, j)
		}
		if !j.Started() {
			continue
		}
		ran = append(ran, j)
		switch {
		case s.Last == nil:
			s.Last = j
		case j.End().After(s.Last.End()):
			otherEnd = later(otherEnd, s.Last.End())
			s.Last = j
		default:
			otherEnd = later(otherEnd, j.End())
		}
	}
	if s.Last != nil {
		s.Alone = s.Last.End().Sub(later(otherEnd, s.Last.Start))
	}
	slices.SortStableFunc(s.Failures, func(a, b *Job) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortStableFunc(ran, func(a, b *Job) int {
		return cmp.Or(cmp.Compare(b.Duration, a.Duration), cmp.Compare(a.Seq, b.Seq))
	})
	s.Slowest = ran[:min(slowestN, len(ran))]
	return s
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
