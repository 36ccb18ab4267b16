// Package runner runs a batch of jobs from an input.Source on a pool: the
// run loop (retries, --halt, throttling, limits) and execution; the records
// it writes are runner/record's.
package runner

import (
	"github.com/futures-cli/futures/runner/output"
	"github.com/futures-cli/futures/runner/record"
)

// The records of a run are runner/record's; these names let a caller of
// Run and RunWait use one import.
type (
	// Result is the record of one job (record.Result).
	Result = record.Result
	// Counts are the jobs counted so far, by outcome (record.Counts).
	Counts = record.Counts
	// Summary is what a run did (record.Summary).
	Summary = record.Summary
	// SetupError is a fault found before any job ran: exit status 2
	// (record.SetupError).
	SetupError = record.SetupError
	// ResumeBy is what --resume matches a job to a joblog row by
	// (record.ResumeBy).
	ResumeBy = record.ResumeBy
)

// The values of ResumeBy.
const (
	ResumeBySeq     = record.ResumeBySeq
	ResumeByCommand = record.ResumeByCommand
)

// ParseResumeBy parses "seq" or "command" (record.ParseResumeBy).
func ParseResumeBy(s string) (ResumeBy, error) { return record.ParseResumeBy(s) }

// jobState is the run loop's side of one job: its record, and what the
// loop keeps beside it from an attempt until the record is emitted. It is
// the value of the job's future (a failed job's future holds it in its
// jobError).
type jobState struct {
	res            *record.Result
	stdout, stderr *output.Spool // group and JSON modes: the captured output until it is emitted
	lost           error         // why some of the last attempt's output was dropped (see outputLost)
	workerLost     error         // the last attempt's worker died (pool.ErrWorkerLost)
	panicked       error         // a *pool.PanicError: the end of the last attempt panicked
}

// close releases the job's spools.
func (js *jobState) close() {
	if js.stdout != nil {
		_ = js.stdout.Close()
		_ = js.stderr.Close()
		js.stdout, js.stderr = nil, nil
	}
}
