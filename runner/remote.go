package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/shell"
)

// The process executor (--executor process): jobs run in worker processes
// of a pool.ProcessPool. This file is the runner's end of a job's trip: it
// turns a Command and its proc.ExecOptions into a job.Spec, and gets back
// the job.Outcome its worker sent; the worker's end, proc.ExecJob (which
// `futures worker` runs), turns the job.Spec back into a Command and runs
// it with proc.Exec.

// Executor names, for Options.Executor.
const (
	ThreadExecutor  = "thread"
	ProcessExecutor = "process"
)

// newProcessPool makes the executor of --executor process.
func (r *run) newProcessPool() pool.Executor[*jobState] {
	return pool.NewProcessPool[*jobState](pool.ProcessOptions{
		MaxWorkers:       r.opt.Workers,
		NamePrefix:       r.opt.WorkerPrefix,
		Initializer:      r.opt.Initializer,
		Shell:            r.opt.Shell,
		MaxTasksPerChild: r.opt.MaxTasksPerChild,
		Hosts:            r.opt.Hosts,
		WorkerLoss:       r.opt.WorkerLoss,
		OnHostDropped:    r.hostDropped,
		OnRefused: func(err error, workers int) {
			r.gate.lowered(pool.Refusal(err), workers)
		},
	})
}

// hostDropped says that --worker-loss requeue gave up on a host.
func (r *run) hostDropped(host string, err error) {
	if host == "" {
		host = "a host"
	}
	_, _ = fmt.Fprintf(r.stderr, "futures: %s dropped: its workers were lost or failed to start too often; the last time: %v\n", host, err)
}

// execRemote runs one attempt of c on the worker process that ctx's task
// runs on. A lost worker breaks the run (exit status 3) at once, so that
// the job is not retried and the rest stop.
func (r *run) execRemote(ctx context.Context, c shell.Command, eo proc.ExecOptions, files *Files) job.Outcome {
	spec := job.Spec{
		Line: c.Line, Argv: c.Argv, Shell: c.Shell, ShellCmd: eo.Shell,
		Env: eo.Env, Dir: eo.Dir, Grace: eo.Grace, Refusable: eo.Refusable,
	}
	if f := files; f != nil {
		spec.Transfer, spec.Return, spec.Cleanup = f.Transfer, f.Return, f.Cleanup
	}
	// --output ungroup hands the jobs the run's own stdout and stderr; here
	// their output arrives in frames and is written through the run's
	// Outputs instead, so that a closed stdout (| head -1) is seen as one.
	stdout, stderr := eo.Stdout, eo.Stderr
	if proc.SameWriter(stdout, r.opt.Stdout) {
		stdout = r.stdout
	}
	if proc.SameWriter(stderr, r.opt.Stderr) {
		stderr = r.stderr
	}
	start := time.Now()
	out, err := pool.RunJob(ctx, spec, stdout, stderr, eo.Kill)
	if err != nil {
		if errors.Is(err, pool.ErrBroken) {
			r.broken(err)
		}
		return job.Outcome{ExitCode: -1, Err: err, Start: start}
	}
	return out
}
