package cmd

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner"
)

// waitOptions are the flags and arguments of `futures wait`.
type waitOptions struct {
	f *factory
	commonFlags
	returnWhen string
	then       string
	files      []string
}

// newCmdWait builds `futures wait`: submit, then return per --return-when.
// runF runs the parsed options; nil: runWait, the real run.
func newCmdWait(f *factory, runF func(*waitOptions) error) *cobra.Command {
	o := &waitOptions{f: f}
	c := &cobra.Command{
		Use:   "wait [flags] [FILE...] | ID...",
		Short: "Run command lines and return when the first completes, the first fails, or all complete",
		Long: `Run each input line as a command line, like submit, and return as Python's
concurrent.futures.wait does: when the first completes (FIRST_COMPLETED), the first
fails (FIRST_EXCEPTION; ALL_COMPLETED when none fails) or all are done
(ALL_COMPLETED, the default), or when --timeout passes. Then the done and
not_done sets are printed (one line each: set, seq, state, exit code, command; or
one JSON object {"done":[…],"not_done":[…]} with --json), and the not_done jobs are
cancelled (--then cancel, the default) or let finish (--then finish).

Given the ids (%N) of futures held by the executor service (submit --detach),
wait waits on those instead, as Python's wait(fs) over futures submitted
separately: the sets are printed the same way, the not_done futures go on
running, and the exit status is 0 when every done one succeeded, 1 when one
failed or was cancelled, 4 when --timeout came first. Ids and FILEs do not mix.`,
		Example: `  printf '%s\n' 'mirror1 fetch' 'mirror2 fetch' | futures wait --return-when FIRST_COMPLETED
  futures wait --return-when FIRST_EXCEPTION %1 %2 %3`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if n := countIDs(args); n > 0 {
				if n < len(args) {
					return usagef("wait: give ids (%%N) or FILEs, not both")
				}
				return runWaitIDs(o, cmd, args)
			}
			if runF != nil {
				return runF(o)
			}
			return runWait(o)
		},
	}
	o.register(c.Flags(), false)
	c.Flags().Lookup("json").Usage = `the done and not_done sets as one JSON object on stdout: {"done":[…],"not_done":[…]}`
	c.Flags().StringVar(&o.returnWhen, "return-when", "ALL_COMPLETED", "FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED")
	c.Flags().StringVar(&o.then, "then", "cancel", "what happens to the not_done jobs: cancel or finish")
	completeChoices(c)
	return c
}

// runWait runs wait's jobs and prints the done and not_done sets.
func runWait(o *waitOptions) error {
	opt, err := o.runnerOptions(o.f)
	if err != nil {
		return err
	}
	wo, err := o.waitOptions()
	if err != nil {
		return err
	}
	src, done, err := commandLines(o.f, &o.commonFlags, o.files, &opt)
	if err != nil {
		return err
	}
	defer done()
	return execute(o.f, &o.commonFlags, opt, func(ctx context.Context, opt runner.Options) *runner.Summary {
		if opt.DryRun {
			return runner.Run(ctx, opt, src)
		}
		sets, sum := runner.RunWait(ctx, opt, wo, src)
		if sets != nil && !opt.DryRun {
			if opt.JSON {
				enc := json.NewEncoder(o.f.stdout)
				enc.SetEscapeHTML(false)
				_ = enc.Encode(sets)
			} else {
				runner.RenderSets(o.f.stdout, sets)
			}
		}
		return sum
	})
}

// waitOptions checks --return-when and --then and turns them into
// runner.WaitOptions.
func (o *waitOptions) waitOptions() (runner.WaitOptions, error) {
	var wo runner.WaitOptions
	if err := returnWhenChoice.check(o.returnWhen); err != nil {
		return wo, err
	}
	if err := thenChoice.check(o.then); err != nil {
		return wo, err
	}
	switch strings.ToUpper(o.returnWhen) {
	case "FIRST_COMPLETED":
		wo.ReturnWhen = future.FirstCompleted
	case "FIRST_EXCEPTION":
		wo.ReturnWhen = future.FirstException
	case "ALL_COMPLETED":
		wo.ReturnWhen = future.AllCompleted
	}
	wo.Finish = o.then == "finish"
	return wo, nil
}
