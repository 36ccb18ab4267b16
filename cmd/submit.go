package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
)

// submitOptions are the flags and arguments of `futures submit`.
type submitOptions struct {
	f *factory
	commonFlags
	files []string
	argv  []string // submit --detach -- CMD ARG...
}

// newCmdSubmit builds `futures submit`: each input line is a command line.
// runF runs the parsed options; nil: runSubmit, the real run.
func newCmdSubmit(f *factory, runF func(*submitOptions) error) *cobra.Command {
	o := &submitOptions{f: f}
	c := &cobra.Command{
		Use:   "submit [flags] [FILE...]",
		Short: "Run each input line as a command line",
		Long: `Run each line of the FILEs (or of stdin) as a command line, in parallel.
Results stream in completion order (as_completed), or in input order with -k.
A line without shell syntax starts with one exec; a line with pipes,
redirections, $VAR and the like runs under --shell.`,
		Example: `  printf '%s\n' 'sleep 1; echo a' 'echo b' | futures submit
  futures submit -j4 --joblog jobs.log commands.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if dash := cmd.ArgsLenAtDash(); dash >= 0 && o.svc.detach {
				o.files, o.argv = args[:dash], args[dash:]
				if len(o.files) > 0 || len(o.argv) == 0 {
					return usagef("submit --detach: give FILEs or -- CMD [ARG...], not both (nor a bare --)")
				}
			}
			if runF != nil {
				return runF(o)
			}
			return runSubmit(o)
		},
	}
	o.register(c.Flags(), false)
	completeChoices(c)
	return c
}

// runSubmit runs submit's jobs.
func runSubmit(o *submitOptions) error {
	opt, err := o.runnerOptions(o.f)
	if err != nil {
		return err
	}
	if err := o.svc.check(&o.commonFlags); err != nil {
		return err
	}
	if o.svc.detach && o.argv != nil {
		return submitDetached(o.f, &o.commonFlags, opt, nil, o.argv)
	}
	src, done, err := commandLines(o.f, &o.commonFlags, o.files, &opt)
	if err != nil {
		return err
	}
	defer done()
	if o.svc.detach {
		return submitDetached(o.f, &o.commonFlags, opt, src, nil)
	}
	return execute(o.f, &o.commonFlags, opt, func(ctx context.Context, opt runner.Options) *runner.Summary {
		return runner.Run(ctx, opt, src)
	})
}

// commandLines opens the FILEs (or stdin) of submit and wait, each item a
// command line, and makes the input stoppable by the run (opt.StopInput).
// done closes what it opened.
func commandLines(f *factory, c *commonFlags, files []string, opt *runner.Options) (src input.Source, done func(), err error) {
	d, err := c.delim()
	if err != nil {
		return nil, nil, err
	}
	in := &input.Files{Stdin: f.stdin, Notice: f.stderr}
	ins, closeIn, err := in.OpenEach(files)
	if err != nil {
		in.Close()
		return nil, nil, usageError{err}
	}
	if err := checkOutputs(*opt, in); err != nil {
		closeIn()
		in.Close()
		return nil, nil, err
	}
	opt.StopInput = in.Stop
	return input.SubmitSource(input.NewInputsReader(ins, d), input.SubmitOptions{Shell: opt.Shell}), func() { closeIn(); in.Close() }, nil
}
