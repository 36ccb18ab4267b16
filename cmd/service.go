package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
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

// poolFlags are the flags of `futures start` that say how the service
// runs its jobs; start passes them on to `futures service`.
type poolFlags struct {
	jobs         string
	executor     string
	initializer  string
	maxTasks     int
	workerPrefix string
	shell        string
	grace        time.Duration
	remote       remoteFlags
}

func (pf *poolFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&pf.jobs, "max-workers", "j", "", "jobs at once: N, N% of the CPUs, cpu (CPUs+1) or io (5×CPUs); default: the number of CPUs (with -S: per host)")
	fs.StringVar(&pf.executor, "executor", "thread", "thread (each job a process of the service) or process (long-lived worker processes: --initializer, --max-tasks-per-child, -S, --launcher)")
	fs.StringVar(&pf.initializer, "initializer", "", "process executor: command run once per worker before its first job")
	fs.IntVar(&pf.maxTasks, "max-tasks-per-child", 0, "process executor: replace a worker after N jobs; 0: never")
	fs.StringVar(&pf.workerPrefix, "worker-prefix", "worker", "process executor: worker names are PREFIX_N")
	fs.StringVar(&pf.shell, "shell", "/bin/sh", "shell for command lines that need one; run as SHELL -c LINE")
	durationVar(fs, &pf.grace, "grace", 5*time.Second, "time between TERM and KILL when a job is stopped (cancel --terminate, SIGTERM)")
	pf.remote.register(fs)
}

// runOptions checks the flags and turns them into the service's options;
// errors are usage errors.
func (pf *poolFlags) runOptions(f *factory) (service.RunOptions, error) {
	ro := service.RunOptions{Grace: pf.grace}
	c := &commonFlags{executor: pf.executor, remote: pf.remote}
	if err := pf.remote.executor(c); err != nil {
		return ro, err
	}
	if err := executorChoice.check(c.executor); err != nil {
		return ro, err
	}
	n, err := runner.ParseWorkers(pf.jobs, f.numCPU())
	if err != nil {
		return ro, usageError{err}
	}
	if n == runner.NoLimit {
		return ro, usagef("-j 0 (no limit) is not for a service: give a number")
	}
	ro.Workers = n
	if c.executor != runner.ProcessExecutor {
		if pf.initializer != "" || pf.maxTasks != 0 {
			return ro, usagef("--initializer and --max-tasks-per-child need --executor process")
		}
		return ro, nil
	}
	if pf.maxTasks < 0 {
		return ro, usagef("--max-tasks-per-child %d: want 0 (no limit) or more", pf.maxTasks)
	}
	var o runner.Options
	o.Executor = c.executor
	if err := pf.remote.apply(&o, pf.jobs); err != nil {
		return ro, err
	}
	ro.Process = &pool.ProcessOptions{
		NamePrefix: pf.workerPrefix, Initializer: pf.initializer, MaxTasksPerChild: pf.maxTasks,
		Shell: []string{pf.shell, "-c"}, WorkerLoss: o.WorkerLoss,
	}
	ro.Remote = o.Remote
	return ro, nil
}

// settings are the flags set in fs (but --service), as `futures service`
// takes them: how start passes them on, and what a running service is
// compared with.
func settings(fs *pflag.FlagSet) []string {
	var args []string
	fs.Visit(func(fl *pflag.Flag) {
		if fl.Name == "service" {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+fl.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+fl.Name+"="+fl.Value.String())
	})
	return args
}

// newCmdService builds `futures service`, hidden: the executor service
// itself, which `futures start` runs detached (service.Run).
func newCmdService(f *factory) *cobra.Command {
	var name string
	var pf poolFlags
	c := &cobra.Command{
		Use:    "service [--service NAME] [start's flags]",
		Short:  "Run the executor service in the foreground (started by futures start)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			ro, err := pf.runOptions(f)
			if err != nil {
				return err
			}
			ro.Version = Version()
			ro.Settings = strings.Join(settings(cmd.Flags()), " ")
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			ro.Crash = f.getenv("FUTURES_TEST_CRASH") // a test hook (docs/service.md)
			if err := service.Run(ctx, p, ro); err != nil {
				fmt.Fprintf(f.stderr, "futures service: %v\n", err)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	pf.register(c.Flags())
	return c
}

// newCmdStart builds `futures start`: find the service running or start
// it, and return once it answers.
func newCmdStart(f *factory) *cobra.Command {
	var name string
	var pf poolFlags
	c := &cobra.Command{
		Use:   "start [--service NAME] [-j N] [--executor thread|process] [--initializer CMD] [--max-tasks-per-child N] [-S HOST... | --launcher srun|CMD]",
		Short: "Start an executor service in the background (nothing to do when it runs)",
		Long: `Start the executor service NAME in the background and return once it accepts
work: at most -j jobs at once (N, N% of the CPUs, cpu, io; default the number of
CPUs), in the order submitted. Each job is a process of the service's own
(--executor thread, the default), or runs in a long-lived worker process
(--executor process: --initializer, --max-tasks-per-child), here or on other
hosts (-S HOST, --sshloginfile, --launcher srun|CMD, as for map), started once
and kept warm for every client. Jobs on other hosts run in their worker's
directory and environment; the others in the submitter's.

Starting a service that already runs succeeds and does nothing; asking it for
other settings is an error (shut it down first). Its socket is in
$XDG_RUNTIME_DIR/futures/NAME/, its store and log (service.log) in
$XDG_STATE_HOME/futures/NAME/ (docs/service.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			if _, err := pf.runOptions(f); err != nil {
				return err
			}
			set := settings(cmd.Flags())
			command := append([]string{"futures", "service", "--service", p.Name}, set...)
			info, started, err := service.Start(context.Background(), p, service.StartOptions{
				Command: command,
				Notify:  func(msg string) { fmt.Fprintf(f.stderr, "futures: %s\n", msg) },
			})
			if err != nil {
				fmt.Fprintf(f.stderr, "futures start: %v\n", err)
				return exitStatus(1)
			}
			if want := strings.Join(set, " "); !started && len(set) > 0 && info.Settings != want {
				fmt.Fprintf(f.stderr, "futures start: service %s already runs with other settings (%q, not %q): shut it down first (futures shutdown --service %s)\n", p.Name, info.Settings, want, p.Name)
				return exitStatus(1)
			}
			return nil
		},
	}
	serviceFlag(c, &name)
	pf.register(c.Flags())
	completeChoices(c)
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
		Use:   "status [--service NAME] [--json] [ID...]",
		Short: "List the executor service's futures: id, state, exit code, duration, command",
		Long: `List the futures of the executor service NAME, read from its store: one line
each, id (%N), state, exit code, duration, worker and command; with --json one
JSON object a line. It reads the store directly, so it works while the service
is stopped too. With IDs (%N), only those. When it finds the service dead (killed, crashed), it marks the
futures that service left pending or running broken: FINISHED with the broken
error (Python's BrokenProcessPool), shown as BROKEN.
No futures: prints nothing.`,
		ValidArgsFunction: completeIDArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := service.Resolve(name)
			if err != nil {
				return err
			}
			ids, err := parseIDs(args)
			if err != nil {
				return err
			}
			if err := printStatus(f, p, asJSON, ids); err != nil {
				if errors.Is(err, store.ErrNoFuture) {
					fmt.Fprintf(f.stderr, "futures status: %v\n", err)
					return exitStatus(2)
				}
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

func printStatus(f *factory, p service.Paths, asJSON bool, ids []int64) error {
	if _, err := os.Stat(p.StateDir); errors.Is(err, os.ErrNotExist) {
		if len(ids) > 0 {
			return fmt.Errorf("%%%d: %w (service %s has never run)", ids[0], store.ErrNoFuture, p.Name)
		}
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
	var fs []*store.Future
	if len(ids) > 0 {
		fs, err = service.Lookup(context.Background(), st, ids)
	} else {
		fs, err = st.List(context.Background(), store.Filter{})
	}
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
		} else if r.Host != "" {
			worker += "@" + r.Host
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
