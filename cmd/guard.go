package cmd

import (
	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner/proc"
)

// guardOptions are the argument of `futures guard`: the run's id.
type guardOptions struct {
	id string
}

// newCmdGuard builds `futures guard ID`, hidden: the sweep of a run whose
// runner was killed (see proc.StartGuard). runF runs the parsed options;
// nil: runGuard, the sweep.
func newCmdGuard(_ *factory, runF func(*guardOptions) error) *cobra.Command {
	o := &guardOptions{}
	return &cobra.Command{
		Use:    proc.GuardCommand + " ID",
		Short:  "Kill what the jobs of run ID left behind (run by the runner's guard)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(o)
			}
			return runGuard(o)
		},
	}
}

// runGuard sweeps what the run o.id left behind.
func runGuard(o *guardOptions) error {
	proc.Sweep(o.id)
	return nil
}
