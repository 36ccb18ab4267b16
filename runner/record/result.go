// Package record is the records of a run: a job's Result with its typed
// state, the run's Counts and Summary with its exit status, and their
// renderings (JSON lines, CSV, GNU parallel's joblog and --resume, --results).
package record

import (
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/job"
)

// Result is the record of one finished (or cancelled) job. It is data: a
// job that failed is a Result with its exit code, signal and error, never a
// Go error of the runner. Its JSON encoding is the --json record (and the
// wait command's done set); the fields marked "-" say how the job ended,
// for counting it, and are not in it.
type Result struct {
	Seq     int      `json:"seq"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Worker  string   `json:"worker"`
	// Retries is how many times the job ran again: --retries, or a
	// worker lost under --worker-loss requeue.
	Retries int    `json:"retries,omitempty"`
	Host    string `json:"host,omitempty"`
	// State is future.Finished for a job that ran (or could not run: a
	// line that cannot be parsed, a broken pool), future.Cancelled for one
	// cancelled before it started; "FINISHED" or "CANCELLED" in JSON.
	State      future.State `json:"state"`
	ExitCode   int          `json:"exit_code"`
	Signal     string       `json:"signal"`
	Error      string       `json:"error"`
	Start      time.Time    `json:"start"`
	DurationMS float64      `json:"duration_ms"`
	MaxRSSKB   int64        `json:"max_rss_kb"`
	UserMS     float64      `json:"user_ms"`
	SysMS      float64      `json:"sys_ms"`
	Stdout     string       `json:"stdout"`
	Stderr     string       `json:"stderr"`

	// SentBytes and ReceivedBytes are the bytes of the files sent to the
	// job's worker (--transferfile) and brought back (--return).
	SentBytes     int64 `json:"sent_bytes,omitempty"`
	ReceivedBytes int64 `json:"received_bytes,omitempty"`

	// Started is true once the command was started (not a line that
	// cannot be parsed, not a job cancelled before it ran).
	Started bool `json:"-"`
	// Stop says what, other than the job itself, ended its last attempt.
	Stop Stop `json:"-"`
}

// Stop is what terminated a job's attempt from outside.
type Stop int

const (
	// NotStopped: the job ended by itself (or never started).
	NotStopped Stop = iota
	// StoppedByJobTimeout: --job-timeout terminated it. It timed out, and
	// it completed: the joblog records it.
	StoppedByJobTimeout
	// StoppedByDeadline: the overall --timeout terminated it. It timed
	// out, and did not complete: no joblog row, --resume runs it again.
	StoppedByDeadline
	// StoppedByRun: the run terminated it (a signal, --halt, --fail-fast,
	// wait --then cancel) or cancelled it before it started. It was
	// cancelled, and did not complete.
	StoppedByRun
)

// SetOutcome fills r from an attempt's outcome: its exit code, signal,
// error, times and bytes, and Started. Stop is the caller's to set: it
// knows why the attempt was cancelled (Outcome.Canceled).
func (r *Result) SetOutcome(out job.Outcome) {
	r.Started = true
	r.ExitCode = out.ExitCode
	r.Signal = out.Signal
	r.Start = out.Start
	r.DurationMS = ms(out.Duration)
	r.MaxRSSKB = out.MaxRSSKB
	r.UserMS = ms(out.User)
	r.SysMS = ms(out.Sys)
	r.SentBytes, r.ReceivedBytes = out.Sent, out.Received
	r.Error = ""
	if out.Err != nil {
		r.Error = out.Err.Error()
	}
	r.Stop = NotStopped
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Succeeded reports whether the job ran and exited 0 within its time.
func (r *Result) Succeeded() bool {
	return r.State == future.Finished && r.ExitCode == 0 && r.Error == "" && !r.TimedOut() && !r.Cancelled()
}

// TimedOut reports whether --job-timeout or the overall --timeout
// terminated the job.
func (r *Result) TimedOut() bool {
	return r.Stop == StoppedByJobTimeout || r.Stop == StoppedByDeadline
}

// Cancelled reports whether the job was cancelled: before it started
// (State Cancelled), or terminated by the run.
func (r *Result) Cancelled() bool {
	return r.State == future.Cancelled || r.Stop == StoppedByRun
}

// Completed reports whether the job ran to its end, by itself or by
// --job-timeout: GNU parallel's joblog records those jobs only, so
// --resume runs the others again.
func (r *Result) Completed() bool {
	return r.State == future.Finished && r.Started && r.Stop != StoppedByDeadline && r.Stop != StoppedByRun
}
