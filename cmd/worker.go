package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/proc"
)

// workerOptions are what `futures worker` runs with: it takes no flags.
type workerOptions struct {
	f *factory
}

// newCmdWorker builds `futures worker`, hidden: a worker process of the
// process executor. It speaks the worker protocol (pool/internal/wire,
// docs/process-executor.md) on its stdin and stdout and runs the jobs it is
// given with proc.Exec. It exits when its stdin closes; SIGTERM (which a
// local worker also gets when its runner dies, on Linux and FreeBSD),
// SIGINT or SIGHUP KILL its running job's process group and make it exit at
// once; so does its parent's death on macOS, where a watchdog stands in for
// the signal (pool.WorkerOptions.ParentWatch).
//
// runF runs the parsed options; nil: runWorker, the real worker.
func newCmdWorker(f *factory, runF func(*workerOptions) error) *cobra.Command {
	o := &workerOptions{f: f}
	return &cobra.Command{
		Use:    "worker",
		Short:  "Serve jobs over the worker protocol on stdin and stdout (started by --executor process)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runWorker(o)
		},
	}
}

// runWorker serves jobs on o's stdin and stdout until stdin closes or a
// signal comes.
func runWorker(o *workerOptions) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	// A write to a runner that is gone must fail with EPIPE, for the worker
	// to stop its job, rather than kill the worker with SIGPIPE. Notify, not
	// Ignore: an ignored signal would stay ignored in the jobs.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)

	err := pool.ServeWorker(ctx, pollable(o.f.stdin), o.f.stdout, pool.WorkerOptions{Exec: proc.ExecJob})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return exitStatus(143)
	}
	fmt.Fprintf(o.f.stderr, "futures worker: %v\n", err)
	return exitStatus(1)
}

// pollable returns stdin as a file whose Read a Close unblocks (one in
// non-blocking mode, served by the runtime's poller), so that ServeWorker
// can stop reading it when it is told to stop; r as it is when it is not a
// pipe or socket (a terminal's mode is shared with the shell).
func pollable(r io.Reader) io.Reader {
	f, ok := r.(*os.File)
	if !ok {
		return r
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return r
	}
	if err := syscall.SetNonblock(int(f.Fd()), true); err != nil {
		return r
	}
	return os.NewFile(f.Fd(), f.Name())
}
