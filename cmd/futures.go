package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// The commands on futures held by a service, one per method of Python's
// Future, and Python's wait and as_completed over ids (issue 16). Their
// logic is runner/service's Session; this file parses and renders.

// Exit statuses of the commands on ids, beyond a job's own (README,
// "An executor that outlives a command").
const (
	exitNo        = 1   // done/running/cancelled: no; cancel: one could not be cancelled
	exitBroken    = 3   // result: the service died before the future finished (BrokenProcessPool)
	exitCancelled = 5   // result: the future was cancelled (CancelledError)
	exitTimeout   = 124 // result: --timeout came first (TimeoutError, as timeout(1))
	exitWaitLimit = 4   // wait, as-completed: --timeout came first
)

// parseIDs parses %N arguments; a malformed one is a usage error.
func parseIDs(args []string) ([]int64, error) {
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := service.ParseID(a)
		if err != nil {
			return nil, usageError{err}
		}
		ids[i] = id
	}
	return ids, nil
}

// idArgs are the positional arguments of a command on ids.
func idArgs(min int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return usagef("%s: missing ID (%%N, as printed by futures submit --detach)", cmd.Name())
		}
		return nil
	}
}

// withSession runs fn on the session of the service named by name; an
// error fn returns is printed as "futures CMD: …" with exit status 1, or
// 2 for an unknown id, unless it is already an exit status.
func withSession(f *factory, cmd *cobra.Command, name string, fn func(ctx context.Context, s *service.Session) error) error {
	p, err := service.Resolve(name)
	if err != nil {
		return usageError{err}
	}
	s, err := service.OpenSession(p)
	if err != nil {
		fmt.Fprintf(f.stderr, "futures %s: %v\n", cmd.Name(), err)
		return exitStatus(1)
	}
	defer s.Close()
	err = fn(context.Background(), s)
	var st exitStatus
	var ue usageError
	switch {
	case err == nil, errors.As(err, &st), errors.As(err, &ue):
		return err
	case errors.Is(err, store.ErrNoFuture):
		fmt.Fprintf(f.stderr, "futures %s: %v\n", cmd.Name(), err)
		return exitStatus(2)
	}
	fmt.Fprintf(f.stderr, "futures %s: %v\n", cmd.Name(), err)
	return exitStatus(1)
}

// withIDs parses the %N arguments (a malformed one is a usage error) and
// runs fn on them with the session of the service named by name, as
// withSession does.
func withIDs(f *factory, cmd *cobra.Command, name string, args []string, fn func(ctx context.Context, s *service.Session, ids []int64) error) error {
	ids, err := parseIDs(args)
	if err != nil {
		return err
	}
	return withSession(f, cmd, name, func(ctx context.Context, s *service.Session) error {
		return fn(ctx, s, ids)
	})
}

// newCmdResult builds `futures result`, Python's Future.result().
func newCmdResult(f *factory) *cobra.Command {
	var name string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "result [--timeout D] ID",
		Short: "Wait for a future and print its output; exit with its exit status",
		Long: `Wait for the future ID (%N) to be done, write the job's stdout and stderr, and
exit with the job's own exit status (128+N when signal N killed it), as Python's
Future.result() returns or raises. Other exits, each with a message on stderr:
124 when --timeout came first (TimeoutError, as timeout(1) exits), 5 when the
future was cancelled (CancelledError), 3 when it is broken (the service died
before it finished: BrokenProcessPool), 2 for an unknown id.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				fu, err := awaitOne(ctx, f, s, cmd, ids[0], timeout)
				if err != nil {
					return err
				}
				switch {
				case fu.State == future.Cancelled:
					fmt.Fprintf(f.stderr, "futures result: %s: cancelled\n", args[0])
					return exitStatus(exitCancelled)
				}
				if err := s.Output(fu, f.stdout, f.stderr); err != nil {
					return err
				}
				switch {
				case fu.Broken:
					fmt.Fprintf(f.stderr, "futures result: %s: %s\n", args[0], fu.Error)
					return exitStatus(exitBroken)
				case fu.Error != "":
					fmt.Fprintf(f.stderr, "futures result: %s: %s\n", args[0], fu.Error)
				case fu.Signal != "":
					fmt.Fprintf(f.stderr, "futures result: %s: killed by %s\n", args[0], fu.Signal)
				}
				if fu.ExitCode < 0 {
					return exitStatus(1)
				}
				if fu.ExitCode != 0 {
					return exitStatus(fu.ExitCode)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	durationVar(c.Flags(), &timeout, "timeout", 0, "give up after this long (exit 124)")
	return c
}

// awaitOne waits for future id to be done, for up to timeout (0: for
// ever); when the timeout comes first it says so and returns exit status
// 124 (TimeoutError).
func awaitOne(ctx context.Context, f *factory, s *service.Session, cmd *cobra.Command, id int64, timeout time.Duration) (*store.Future, error) {
	fs, err := s.Await(ctx, []int64{id}, service.AllCompleted, timeout)
	if err != nil {
		return nil, err
	}
	if !fs[0].Done() {
		fmt.Fprintf(f.stderr, "futures %s: %%%d: not done after %v (%s)\n", cmd.Name(), id, timeout, fs[0].State)
		return nil, exitStatus(exitTimeout)
	}
	return fs[0], nil
}

// newCmdException builds `futures exception`, Python's Future.exception().
func newCmdException(f *factory) *cobra.Command {
	var name string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "exception [--timeout D] ID",
		Short: "Wait for a future and print why it failed, or nothing",
		Long: `Wait for the future ID to be done and print its error: the exit status, the
signal that killed it, "cancelled", why it could not start, or why it is broken;
print nothing when it succeeded. Exit 0 either way, 124 when --timeout came first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				fu, err := awaitOne(ctx, f, s, cmd, ids[0], timeout)
				if err != nil {
					return err
				}
				if r := service.Reason(fu); r != "" {
					fmt.Fprintln(f.stdout, r)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	durationVar(c.Flags(), &timeout, "timeout", 0, "give up after this long (exit 124)")
	return c
}

// newCmdPredicate builds `futures done`, `running` or `cancelled`: the
// answer is the exit status, as test(1)'s.
func newCmdPredicate(f *factory, use, short string, pred func(*store.Future) bool) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Long:  short + ".\nThe answer is the exit status, as test(1)'s: 0 yes, 1 no, 2 for an unknown id.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				fs, err := s.Lookup(ctx, ids)
				if err != nil {
					return err
				}
				if !fs[0].Done() && !service.Alive(s.Paths) {
					// The next command that finds the service dead breaks its futures.
					if _, err := service.BreakIfDead(ctx, s.Paths, s.Store); err != nil {
						return err
					}
					if fs, err = s.Lookup(ctx, ids); err != nil {
						return err
					}
				}
				if !pred(fs[0]) {
					return exitStatus(exitNo)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	return c
}

func newCmdDone(f *factory) *cobra.Command {
	return newCmdPredicate(f, "done", "Is the future done (finished or cancelled)?", (*store.Future).Done)
}

func newCmdRunning(f *factory) *cobra.Command {
	return newCmdPredicate(f, "running", "Is the future running?", func(fu *store.Future) bool { return fu.State == future.Running })
}

func newCmdCancelled(f *factory) *cobra.Command {
	return newCmdPredicate(f, "cancelled", "Was the future cancelled?", func(fu *store.Future) bool { return fu.State == future.Cancelled })
}

// newCmdCancel builds `futures cancel`, Python's Future.cancel() on each
// id, and with --terminate more than Python does.
func newCmdCancel(f *factory) *cobra.Command {
	var name string
	var terminate bool
	var grace time.Duration
	c := &cobra.Command{
		Use:   "cancel [--terminate [--grace D]] ID...",
		Short: "Cancel pending futures (--terminate: stop running ones too)",
		Long: `Cancel the pending futures IDs: they will not run, and are CANCELLED. Exit 0 when
every one is cancelled (or was already), 1 when one had already started or
finished, as Python's cancel() returns False; each of those is named on stderr.

--terminate also stops the running ones: TERM to the job's process group, KILL
after --grace (at most the service's grace, 5 s). It returns once they have
ended. A terminated future is FINISHED, killed by the signal (exit status 143
for TERM, 137 for KILL), not CANCELLED: it had started. Exit 0 then when every
one was cancelled or terminated, 1 when one had already finished.`,
		Args: idArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				fs, err := s.Lookup(ctx, ids)
				if err != nil {
					return err
				}
				rep, err := s.Client.Cancel(ctx, service.CancelRequest{IDs: ids, Terminate: terminate, GraceMS: grace.Milliseconds()})
				if errors.Is(err, service.ErrNotRunning) {
					// No service: nothing pending or running is left once
					// a dead one's futures are broken.
					if _, err := service.BreakIfDead(ctx, s.Paths, s.Store); err != nil {
						return err
					}
					for _, fu := range fs {
						if fu.State != future.Cancelled {
							rep.NotCancelled = append(rep.NotCancelled, fu.ID)
						}
					}
				} else if err != nil {
					return err
				}
				if len(rep.Terminated) > 0 {
					if _, err := s.Await(ctx, rep.Terminated, service.AllCompleted, 0); err != nil {
						return err
					}
				}
				terminated := map[int64]bool{}
				for _, id := range rep.Terminated {
					terminated[id] = true
				}
				failed := false
				for _, id := range rep.NotCancelled {
					if terminated[id] {
						continue
					}
					failed = true
					fs, err := s.Lookup(ctx, []int64{id})
					state := "started"
					if err == nil {
						state = strings.ToLower(fs[0].State.String())
					}
					fmt.Fprintf(f.stderr, "futures cancel: %%%d: not cancelled: it is %s\n", id, state)
				}
				if failed {
					return exitStatus(exitNo)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	c.Flags().BoolVar(&terminate, "terminate", false, "also stop running futures (TERM, KILL after --grace)")
	durationVar(c.Flags(), &grace, "grace", 0, "with --terminate: time between TERM and KILL (default: the service's, 5 s)")
	return c
}

// newCmdAddDoneCallback builds `futures add-done-callback`.
func newCmdAddDoneCallback(f *factory) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "add-done-callback ID -- CMD [ARG...]",
		Short: "Have the service run a command when a future is done",
		Long: `Have the service run CMD when the future ID is done (at once when it is), with
FUTURES_ID, FUTURES_STATE (FINISHED, CANCELLED or BROKEN) and FUTURES_EXIT_CODE
(empty when cancelled) in its environment, in the future's working directory.
Callbacks of a future run in the order they were added; their output goes to
the service's log, and a failing one is logged there and changes nothing.`,
		Args: idArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs(args[:1])
			if err != nil {
				return err
			}
			argv := args[1:]
			return withSession(f, cmd, name, func(ctx context.Context, s *service.Session) error {
				if _, err := s.Lookup(ctx, ids); err != nil {
					return err
				}
				if _, err := ensureService(ctx, f, s.Paths); err != nil {
					return err
				}
				_, err := s.Client.AddCallback(ctx, ids[0], argv)
				return err
			})
		},
	}
	serviceFlag(c, &name)
	return c
}

// ensureService starts the service at p with default settings when it
// does not run (submit --detach, add-done-callback), and returns who it
// is.
func ensureService(ctx context.Context, f *factory, p service.Paths) (service.Info, error) {
	info, _, err := service.Start(ctx, p, service.StartOptions{
		Command: []string{"futures", "service", "--service", p.Name},
		Notify:  func(msg string) { fmt.Fprintf(f.stderr, "futures: %s\n", msg) },
	})
	return info, err
}

// runWaitIDs is `futures wait ID...`: Python's wait over held futures.
func runWaitIDs(o *waitOptions, cmd *cobra.Command, args []string) error {
	if err := returnWhenChoice.check(o.returnWhen); err != nil {
		return usageError{err}
	}
	rw, err := service.ParseReturnWhen(o.returnWhen)
	if err != nil {
		return usageError{err}
	}
	ids, err := parseIDs(args)
	if err != nil {
		return err
	}
	return withSession(o.f, cmd, o.svc.service, func(ctx context.Context, s *service.Session) error {
		fs, err := s.Await(ctx, ids, rw, o.timeout)
		if err != nil {
			return err
		}
		now := time.Now()
		var done, notDone []statusRow
		failed := false
		for _, fu := range fs {
			if fu.Done() {
				done = append(done, toStatusRow(fu, now))
				failed = failed || service.Failed(fu)
			} else {
				notDone = append(notDone, toStatusRow(fu, now))
			}
		}
		if o.json {
			enc := json.NewEncoder(o.f.stdout)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(struct {
				Done    []statusRow `json:"done"`
				NotDone []statusRow `json:"not_done"`
			}{orRows(done), orRows(notDone)}); err != nil {
				return err
			}
		} else {
			for _, r := range done {
				fmt.Fprintf(o.f.stdout, "done\t%s\t%s\t%s\t%s\n", r.ID, r.displayState(), r.code(), oneLine(r.Command))
			}
			for _, r := range notDone {
				fmt.Fprintf(o.f.stdout, "not_done\t%s\t%s\t-\t%s\n", r.ID, r.State, oneLine(r.Command))
			}
		}
		switch {
		case !service.Satisfied(fs, rw):
			return exitStatus(exitWaitLimit)
		case failed:
			return exitStatus(1)
		}
		return nil
	})
}

func orRows(rs []statusRow) []statusRow {
	if rs == nil {
		return []statusRow{}
	}
	return rs
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// displayState is the state as status shows it: BROKEN for a broken
// future.
func (r statusRow) displayState() string {
	if r.Broken {
		return "BROKEN"
	}
	return r.State
}

// code is the exit code as status shows it, "-" when there is none.
func (r statusRow) code() string {
	if r.ExitCode != nil && *r.ExitCode >= 0 {
		return strconv.Itoa(*r.ExitCode)
	}
	return "-"
}

// newCmdAsCompleted builds `futures as-completed`, Python's as_completed
// over ids.
func newCmdAsCompleted(f *factory) *cobra.Command {
	var name string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "as-completed [--timeout D] ID...",
		Short: "Print each future as it completes (those done already first)",
		Long: `Print each future of IDs as it completes, those already done first (in the
order given), one line each: id, state, exit code, command. Exit 0 when every one
succeeded, 1 when one failed or was cancelled, 4 when --timeout came before all
were done (Python's as_completed raising TimeoutError).`,
		Args: idArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				var deadline time.Time
				if timeout > 0 {
					deadline = time.Now().Add(timeout)
				}
				left := ids
				failed := false
				for len(left) > 0 {
					var d time.Duration
					if !deadline.IsZero() {
						if d = time.Until(deadline); d <= 0 {
							return exitStatus(exitWaitLimit)
						}
					}
					fs, err := s.Await(ctx, left, service.FirstCompleted, d)
					if err != nil {
						return err
					}
					var still []int64
					now := time.Now()
					for _, fu := range fs {
						if !fu.Done() {
							still = append(still, fu.ID)
							continue
						}
						failed = failed || service.Failed(fu)
						r := toStatusRow(fu, now)
						fmt.Fprintf(f.stdout, "%s\t%s\t%s\t%s\n", r.ID, r.displayState(), r.code(), oneLine(r.Command))
					}
					if len(still) == len(left) {
						return exitStatus(exitWaitLimit) // the timeout came first
					}
					left = still
				}
				if failed {
					return exitStatus(1)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	durationVar(c.Flags(), &timeout, "timeout", 0, "give up after this long (exit 4)")
	return c
}

// newCmdFollow builds `futures follow`: a job's output as it comes.
func newCmdFollow(f *factory) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "follow ID",
		Short: "Stream a future's output as it is written, until it is done",
		Long: `Write the future ID's stdout and stderr so far, then what it writes next as it
comes (as tail -f, polling its files every 50 ms), and exit once the future is
done and all of its output is written: 0, whatever the job's exit status (result
gives that).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				return s.Follow(ctx, ids[0], f.stdout, f.stderr, 50*time.Millisecond)
			})
		},
	}
	serviceFlag(c, &name)
	return c
}

// newCmdForget builds `futures forget`: drop done futures from the store.
func newCmdForget(f *factory) *cobra.Command {
	var name string
	var all bool
	c := &cobra.Command{
		Use:   "forget ID...|--all",
		Short: "Remove done futures and their output from the service's store",
		Long: `Remove the done futures IDs (or --all done futures) from the service's store,
with their output files. Their ids are never handed out again. A future not done
yet is not forgotten: it is named on stderr, and the exit status is 1.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if all != (len(args) == 0) {
				return usagef("forget: give IDs or --all, not both and not neither")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(f, cmd, name, args, func(ctx context.Context, s *service.Session, ids []int64) error {
				if s.Store == nil {
					if all {
						return nil
					}
					_, err := s.Lookup(ctx, ids)
					return err
				}
				if all {
					_, err := s.Store.ForgetAll(ctx)
					return err
				}
				not, err := s.Store.Forget(ctx, ids)
				if err != nil {
					return err
				}
				for _, id := range not {
					fmt.Fprintf(f.stderr, "futures forget: %%%d: not done yet: not forgotten\n", id)
				}
				if len(not) > 0 {
					return exitStatus(1)
				}
				return nil
			})
		},
	}
	serviceFlag(c, &name)
	c.Flags().BoolVar(&all, "all", false, "forget every done future")
	return c
}

// idCommand makes build's commands complete their arguments as ids.
func idCommand(build func(*factory) *cobra.Command) func(*factory) *cobra.Command {
	return func(f *factory) *cobra.Command {
		c := build(f)
		c.ValidArgsFunction = completeIDArgs
		return c
	}
}

// newCmdAddDoneCallbackCompleted is add-done-callback, completing its first
// argument as an id and the command after it as files.
func newCmdAddDoneCallbackCompleted(f *factory) *cobra.Command {
	cb := newCmdAddDoneCallback(f)
	cb.ValidArgsFunction = func(cmd *cobra.Command, args []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return completeIDArgs(cmd, args, typed)
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
	return cb
}
