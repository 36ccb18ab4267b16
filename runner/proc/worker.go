package proc

import (
	"context"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/shell"
)

// ExecJob runs a job a worker process received: it is the
// pool.WorkerOptions.Exec of `futures worker`, the worker's end of the
// process executor (the runner's end is runner/remote.go).
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
