package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/proc"
)

// signals turns the first SIGINT, SIGTERM or SIGHUP into the cancellation
// of the returned context (cause runner.SignalError) and the second into
// closing kill. SIGPIPE is caught so that a write to a closed stdout
// returns EPIPE (and the runner stops quietly) instead of killing the
// process. stop releases the signals and waits for the watcher.
func signals(parent context.Context) (ctx context.Context, kill <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	killCh := make(chan struct{})
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		got := 0
		for {
			select {
			case s := <-ch:
				if s == syscall.SIGPIPE {
					continue
				}
				got++
				if got == 1 {
					cancel(runner.SignalError{Signal: s.(syscall.Signal)})
				} else if got == 2 {
					close(killCh)
				}
			case <-quit:
				return
			}
		}
	}()
	return ctx, killCh, func() {
		signal.Stop(ch)
		close(quit)
		wg.Wait()
		cancel(nil)
	}
}

// execute runs jobs through fn with signals, progress and the summary
// wired, and returns the exit status as an error (nil for 0).
func execute(f *factory, c *commonFlags, opt runner.Options, fn func(context.Context, runner.Options) *runner.Summary) error {
	setRunGC(f.getenv)
	ctx, kill, stop := signals(context.Background())
	defer stop()
	opt.Kill = kill
	if name := c.svc.attachedTo(f); name != "" && !opt.DryRun {
		detach, err := attach(ctx, f, c, name, &opt)
		var ue usageError
		switch {
		case errors.As(err, &ue):
			return err
		case err != nil:
			fmt.Fprintf(f.stderr, "futures: %v\n", err)
			return exitStatus(1)
		}
		defer detach()
	}
	var prog *progress // none for a dry run: nothing runs
	if !opt.DryRun {
		prog = newProgress(c.progress, f.stderr)
	}
	if prog != nil {
		opt.Observer = prog
		opt.WriteHook = prog
	}
	c.report.observe(&opt)
	stopGuard := func() {}
	if !opt.DryRun {
		stopGuard = proc.StartGuard()
	}
	sum := fn(ctx, opt)
	stopGuard()
	prog.finish()
	c.report.write(f, sum)
	var se runner.SetupError
	if errors.As(sum.Err, &se) {
		fmt.Fprintf(f.stderr, "futures: %v\n", se.Err)
		return exitStatus(2)
	}
	quietStop := sum.Signal == syscall.SIGPIPE
	if !c.quiet && !opt.DryRun && !quietStop && sum.Submitted > 0 {
		fmt.Fprintln(f.stderr, sum.String())
	}
	if sum.Broken != nil && !quietStop {
		fmt.Fprintf(f.stderr, "futures: %v\n", sum.Broken)
	}
	if st := sum.ExitStatus(); st != 0 {
		return exitStatus(st)
	}
	return nil
}

// runGCPercent is a run's GOGC. A run's live heap is small (a few KiB a
// running job) and its work is starting processes, next to which a
// collection costs little; at the default 100 the heap may grow by as
// much again (and by as much as the goroutines' stacks: Go counts them in
// the collector's goal) before a collection. 3,000 sleep 1 at -j1000: a
// peak RSS of 20-20.5 MiB at 25 against 22.5-25 MiB at 100 (bench row
// 15), with no difference in the runner's CPU that perf can see
// (docs/performance.md).
const runGCPercent = 25

// setRunGC sets the collector's goal for a run, unless the environment
// (getenv) sets GOGC: the user's setting wins.
func setRunGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(runGCPercent)
	}
}
