package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// serviceFlag adds --service NAME to c; "" means $FUTURES_SERVICE, else
// "default" (service.Resolve).
// Its value completes to the names of this user's services (serviceNames).
func serviceFlag(c *cobra.Command, name *string) {
	c.Flags().StringVar(name, "service", "", "the executor service's `NAME` (default $FUTURES_SERVICE, else \"default\")")
	_ = c.RegisterFlagCompletionFunc("service", completeServiceFlag)
}

// newCmdService builds `futures service`, hidden: the executor service
// itself, which `futures start` runs detached (service.Run).
func newCmdService(f *factory) *cobra.Command {
	var name string
	var ro service.RunOptions
	c := &cobra.Command{
		Use:    "service [--service NAME]",
		Short:  "Run the executor service in the foreground (started by futures start)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			ro.Version = version()
			ro.Crash = f.getenv("FUTURES_TEST_CRASH") // a test hook (docs/service.md)
			if ro.Workers <= 0 {
				ro.Workers = f.numCPU()
			}
			if err := service.Run(ctx, p, ro); err != nil {
				fmt.Fprintf(f.stderr, "futures service: %v\n", err)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	c.Flags().IntVarP(&ro.Workers, "max-workers", "j", 0, "jobs at once; 0: the number of CPUs")
	durationVar(c.Flags(), &ro.Grace, "grace", 5*time.Second, "time between TERM and KILL when a job is stopped")
	return c
}

// newCmdStart builds `futures start`: find the service running or start
// it, and return once it answers.
func newCmdStart(f *factory) *cobra.Command {
	var name, jobs string
	var grace time.Duration
	c := &cobra.Command{
		Use:   "start [--service NAME] [-j N] [--grace D]",
		Short: "Start an executor service in the background (nothing to do when it runs)",
		Long: `Start the executor service NAME in the background and return once it accepts
work: at most -j jobs at once (N, N% of the CPUs, cpu, io; default the number of
CPUs), in the order submitted. Starting a service that already runs succeeds and
does nothing; asking it for another -j is an error. Its socket
is in $XDG_RUNTIME_DIR/futures/NAME/, its store and log (service.log) in
$XDG_STATE_HOME/futures/NAME/ (docs/service.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			workers := 0
			if jobs != "" {
				if workers, err = runner.ParseWorkers(jobs, f.numCPU()); err != nil {
					return usageError{err}
				}
				if workers == runner.NoLimit {
					return usagef("start: -j 0 (no limit) is not for a service: give a number")
				}
			}
			command := []string{"futures", "service", "--service", p.Name, "--grace", grace.String()}
			if workers > 0 {
				command = append(command, "-j", strconv.Itoa(workers))
			}
			info, started, err := service.Start(context.Background(), p, service.StartOptions{
				Command: command,
				Notify:  func(msg string) { fmt.Fprintf(f.stderr, "futures: %s\n", msg) },
			})
			if err != nil {
				fmt.Fprintf(f.stderr, "futures start: %v\n", err)
				return exitStatus(1)
			}
			if !started && workers > 0 && info.Workers != workers {
				fmt.Fprintf(f.stderr, "futures start: service %s already runs with -j %d, not -j %d: shut it down first (futures shutdown --service %s)\n", p.Name, info.Workers, workers, p.Name)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	c.Flags().StringVarP(&jobs, "max-workers", "j", "", "jobs at once: N, N% of the CPUs, cpu (CPUs+1) or io (5×CPUs); default: the number of CPUs")
	durationVar(c.Flags(), &grace, "grace", 5*time.Second, "time between TERM and KILL when a job is stopped (cancel --terminate, SIGTERM)")
	return c
}

// newCmdShutdown builds `futures shutdown`, Python's Executor.shutdown.
func newCmdShutdown(f *factory) *cobra.Command {
	var name string
	var req service.ShutdownRequest
	c := &cobra.Command{
		Use:   "shutdown [--service NAME] [--wait=true|false] [--cancel-futures]",
		Short: "Shut the executor service down (Python's Executor.shutdown)",
		Long: `Tell the executor service to take no new futures and exit once its futures are
done (--cancel-futures: cancel the pending ones first). With --wait (the default)
return once the service has exited. Shutting down a service that does not run
is a no-op, as Python's shutdown of an executor already shut down: it says so
on stderr and exits 0. The store stays readable (futures status).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			err = service.Shutdown(context.Background(), p, req)
			switch {
			case errors.Is(err, service.ErrNotRunning):
				fmt.Fprintf(f.stderr, "futures shutdown: %v: nothing to shut down\n", err)
			case err != nil:
				fmt.Fprintf(f.stderr, "futures shutdown: %v\n", err)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	c.Flags().BoolVar(&req.Wait, "wait", true, "return once the service has exited")
	c.Flags().BoolVar(&req.CancelFutures, "cancel-futures", false, "cancel the pending futures")
	return c
}

// statusRow is one future in `futures status --json`.
type statusRow struct {
	ID         string  `json:"id"`
	State      string  `json:"state"`
	Broken     bool    `json:"broken,omitempty"`
	ExitCode   *int    `json:"exit_code"`
	Signal     string  `json:"signal,omitempty"`
	Error      string  `json:"error,omitempty"`
	DurationS  float64 `json:"duration_s"`
	Worker     string  `json:"worker,omitempty"`
	Host       string  `json:"host,omitempty"`
	Command    string  `json:"command"`
	Submitted  string  `json:"submitted"`
	StartedAt  string  `json:"started,omitempty"`
	FinishedAt string  `json:"finished,omitempty"`
}

// newCmdStatus builds `futures status`: the service's futures, read from
// its store, so it works with the service stopped.
func newCmdStatus(f *factory) *cobra.Command {
	var name string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--service NAME] [--json]",
		Short: "List the executor service's futures: id, state, exit code, duration, command",
		Long: `List the futures of the executor service NAME, read from its store: one line
each, id (%N), state, exit code, duration, worker and command; with --json one
JSON object a line. It reads the store directly, so it works while the service
is stopped too. When it finds the service dead (killed, crashed), it marks the
futures that service left pending or running broken: FINISHED with the broken
error (Python's BrokenProcessPool), shown as BROKEN.
No futures: prints nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			if err := printStatus(f, p, asJSON); err != nil {
				fmt.Fprintf(f.stderr, "futures status: %v\n", err)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per future")
	return c
}

func printStatus(f *factory, p service.Paths, asJSON bool) error {
	if _, err := os.Stat(p.StateDir); errors.Is(err, os.ErrNotExist) {
		return nil // never started: no futures
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	// The next command that finds the service dead breaks its futures.
	if _, err := service.BreakIfDead(context.Background(), p, st); err != nil {
		return err
	}
	fs, err := st.List(context.Background(), store.Filter{})
	if err != nil {
		return err
	}
	now := time.Now()
	if asJSON {
		enc := json.NewEncoder(f.stdout)
		for _, fu := range fs {
			if err := enc.Encode(toStatusRow(fu, now)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(f.stdout, 0, 8, 2, ' ', 0)
	for _, fu := range fs {
		r := toStatusRow(fu, now)
		state := r.State
		if r.Broken {
			state = "BROKEN"
		}
		code := "-"
		if r.ExitCode != nil && *r.ExitCode >= 0 {
			code = strconv.Itoa(*r.ExitCode)
		}
		dur := "-"
		if !fu.Started.IsZero() {
			dur = time.Duration(r.DurationS * float64(time.Second)).Round(time.Millisecond).String()
		}
		worker := r.Worker
		if worker == "" {
			worker = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, state, code, dur, worker, r.Command)
	}
	return tw.Flush()
}

func toStatusRow(fu *store.Future, now time.Time) statusRow {
	r := statusRow{
		ID:        "%" + strconv.FormatInt(fu.ID, 10),
		State:     fu.State.String(),
		Broken:    fu.Broken,
		Signal:    fu.Signal,
		Error:     fu.Error,
		Worker:    fu.Worker,
		Host:      fu.Host,
		Command:   fu.Spec.Line,
		Submitted: fu.Submitted.UTC().Format(time.RFC3339Nano),
	}
	if fu.State == future.Finished {
		code := fu.ExitCode
		r.ExitCode = &code
	}
	if !fu.Started.IsZero() {
		r.StartedAt = fu.Started.UTC().Format(time.RFC3339Nano)
		end := now
		if !fu.Finished.IsZero() {
			end = fu.Finished
			r.FinishedAt = fu.Finished.UTC().Format(time.RFC3339Nano)
		}
		r.DurationS = end.Sub(fu.Started).Seconds()
	}
	return r
}
