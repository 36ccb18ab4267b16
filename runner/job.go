// Package runner runs a batch of jobs from an input.Source on a pool: the
// run loop (retries, --halt, throttling, limits), execution, and the records.
package runner

import (
	"time"

	"github.com/futures-cli/futures/runner/output"
)

// Result is the record of one finished (or cancelled) job. It is data: a
// job that failed is a Result with its exit code, signal and error, never a
// Go error of the runner.
type Result struct {
	Seq     int      `json:"seq"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Worker  string   `json:"worker"`
	// Retries is how many times the job ran again: --retries, or a
	// worker lost under --worker-loss requeue.
	Retries    int       `json:"retries,omitempty"`
	Host       string    `json:"host,omitempty"`
	State      string    `json:"state"`
	ExitCode   int       `json:"exit_code"`
	Signal     string    `json:"signal"`
	Error      string    `json:"error"`
	Start      time.Time `json:"start"`
	DurationMS float64   `json:"duration_ms"`
	MaxRSSKB   int64     `json:"max_rss_kb"`
	UserMS     float64   `json:"user_ms"`
	SysMS      float64   `json:"sys_ms"`
	Stdout     string    `json:"stdout"`
	Stderr     string    `json:"stderr"`

	// SentBytes and ReceivedBytes are the bytes of the files sent to the
	// job's worker (--transferfile) and brought back (--return).
	SentBytes     int64 `json:"sent_bytes,omitempty"`
	ReceivedBytes int64 `json:"received_bytes,omitempty"`

	stdout, stderr *output.Spool // group and JSON modes: the captured output until it is emitted
	started        bool          // the command was started (not a parse error, not cancelled before)
	timedOut       bool          // terminated by --job-timeout or the overall --timeout
	cancelled      bool          // terminated by a signal, --fail-fast or wait --then cancel
	stopped        bool          // terminated by the run (not by --job-timeout): it did not complete, so no joblog row
	lost           error         // why some of its output was dropped (see outputLost)
	workerLost     error         // the last attempt's worker died (pool.ErrWorkerLost)
}
