// Package report draws a picture of a run: it reads the records of a run
// (--json lines, a --results FILE.jsonl, a GNU parallel-format joblog, or
// an executor service's futures), lays them out on a timeline (one row per
// worker slot, grouped by host) and summarises them (wall time, outcomes,
// utilisation, the slowest jobs, the tail, the failures). It renders one
// self-contained HTML page (HTML) or a compact text for a terminal (Text).
package report

import (
	"strings"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/record"
)

// Outcome is how a job ended, as the report colours it.
type Outcome int

// The outcomes, from the best to the worst: an aggregate bar takes the
// colour of the worst outcome it holds.
const (
	Succeeded Outcome = iota
	Cancelled         // cancelled before it started, or terminated by the run
	Killed            // killed by a signal it was not sent by a timeout
	TimedOut          // terminated by --job-timeout or the overall --timeout
	Failed            // a non-zero exit status, or a job that could not run
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"succeeded", "cancelled", "killed", "timed out", "failed"}

// String names the outcome: "succeeded", "failed", "timed out"….
func (o Outcome) String() string {
	if o < 0 || o >= numOutcomes {
		return "unknown"
	}
	return outcomeNames[o]
}

// class is the outcome as a CSS class name.
func (o Outcome) class() string { return strings.ReplaceAll(o.String(), " ", "-") }

// stderrTail is how much of the end of a job's stderr a report keeps.
const stderrTail = 1024

// Job is one job's record, whatever it was read from. A job that never
// started (cancelled while pending) has a zero Start and no bar.
type Job struct {
	Seq      int
	Command  string
	Args     []string
	Worker   string // worker_0…; "" when the record does not say (joblog)
	Host     string // "" for this machine
	Outcome  Outcome
	ExitCode int
	Signal   string
	Error    string
	Start    time.Time
	Duration time.Duration
	MaxRSSKB int64
	User     time.Duration
	Sys      time.Duration
	// Stderr is the end of the job's stderr, when the record holds it.
	Stderr string
}

// Started reports whether the job ran (it has a start time).
func (j *Job) Started() bool { return !j.Start.IsZero() }

// End is when the job ended.
func (j *Job) End() time.Time { return j.Start.Add(j.Duration) }

// Item is the job's input item(s), space-separated.
func (j *Job) Item() string { return strings.Join(j.Args, " ") }

// FromResult is the Job of a run's record, its outcome counted as the
// run's summary counts it (record.Summary.Add).
func FromResult(r *record.Result) Job {
	j := Job{
		Seq: r.Seq, Command: r.Command, Args: r.Args, Worker: r.Worker, Host: r.Host,
		ExitCode: r.ExitCode, Signal: r.Signal, Error: r.Error,
		Duration: msDuration(r.DurationMS), MaxRSSKB: r.MaxRSSKB,
		User: msDuration(r.UserMS), Sys: msDuration(r.SysMS),
		Stderr: tail(r.Stderr),
	}
	if r.Started {
		j.Start = r.Start
	}
	switch {
	case r.Cancelled():
		j.Outcome = Cancelled
	case r.TimedOut():
		j.Outcome = TimedOut
	case r.Succeeded():
		j.Outcome = Succeeded
	case r.Signal != "" && r.Error == "":
		j.Outcome = Killed
	default:
		j.Outcome = Failed
	}
	return j
}

// outcomeOf reads how a job ended from what a --json record (or a
// service's future) says: its state, error text, signal and exit code.
// The error texts are the runner's ("terminated: job timeout",
// "terminated: overall timeout", "terminated: …" for a job the run
// stopped).
func outcomeOf(state future.State, errText, signal string, exitCode int) Outcome {
	switch {
	case state == future.Cancelled:
		return Cancelled
	case strings.HasPrefix(errText, "terminated: ") && strings.HasSuffix(errText, "timeout"):
		return TimedOut
	case strings.HasPrefix(errText, "terminated: "), strings.HasPrefix(errText, "cancelled"):
		return Cancelled
	case errText != "":
		return Failed
	case signal != "":
		return Killed
	case exitCode != 0:
		return Failed
	}
	return Succeeded
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// tail is the end of s, at most stderrTail bytes, cut at a line start
// when one is near.
func tail(s string) string {
	s = strings.TrimRight(s, "\n")
	if len(s) <= stderrTail {
		return s
	}
	s = s[len(s)-stderrTail:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < stderrTail/2 {
		s = s[i+1:]
	}
	return strings.ToValidUTF8(s, "")
}
