package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/shell"
)

// The process executor (--executor process): jobs run in worker processes
// of a pool.ProcessPool. This file is both ends of a job's trip: the
// runner's side turns a Command and its ExecOptions into a job.Spec, and
// gets back the job.Outcome its worker sent; the worker's side (ExecJob,
// which `futures worker` runs) turns the job.Spec back into a Command and
// runs it with Exec.

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
func (r *run) execRemote(ctx context.Context, c shell.Command, eo ExecOptions) Outcome {
	spec := job.Spec{
		Line: c.Line, Argv: c.Argv, Shell: c.Shell, ShellCmd: eo.Shell,
		Env: eo.Env, Dir: eo.Dir, Grace: eo.Grace, Refusable: eo.Refusable,
	}
	if f := eo.Files; f != nil {
		spec.Transfer, spec.Return, spec.Cleanup = f.Transfer, f.Return, f.Cleanup
	}
	// --output ungroup hands the jobs the run's own stdout and stderr; here
	// their output arrives in frames and is written through the run's
	// Outputs instead, so that a closed stdout (| head -1) is seen as one.
	stdout, stderr := eo.Stdout, eo.Stderr
	if sameWriter(stdout, r.opt.Stdout) {
		stdout = r.stdout
	}
	if sameWriter(stderr, r.opt.Stderr) {
		stderr = r.stderr
	}
	start := time.Now()
	out, err := pool.RunJob(ctx, spec, stdout, stderr, eo.Kill)
	if err != nil {
		if errors.Is(err, pool.ErrBroken) {
			r.broken(err)
		}
		return Outcome{ExitCode: -1, Err: err, Start: start}
	}
	return out
}

// ExecJob runs a job a worker process received: it is the
// pool.WorkerOptions.Exec of `futures worker`.
func ExecJob(ctx context.Context, spec job.Spec, jio pool.JobIO) job.Outcome {
	c := shell.Command{Line: spec.Line, Argv: spec.Argv, Shell: spec.Shell}
	// Inline: a worker runs one job at a time, so the job's output is read
	// in this goroutine rather than by a goroutine per pipe (see
	// exec_inline.go).
	return Exec(ctx, c, ExecOptions{
		Shell: spec.ShellCmd, Env: spec.Env, Environ: spec.Environ, Dir: spec.Dir,
		Stdout: jio.Stdout, Stderr: jio.Stderr, Grace: spec.Grace, Kill: jio.Kill, Started: jio.Started,
		Inline: true, Refusable: spec.Refusable,
	})
}
