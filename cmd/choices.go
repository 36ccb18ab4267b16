package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner"
)

// choice is a flag whose value is one of a fixed set. Its check and its
// shell completion read the same values, so the two cannot drift. A flag
// whose values follow a grammar (--halt) lists the common ones for
// completion, and its parser is its check; a test holds every listed value
// to that parser.
type choice struct {
	flag   string   // the flag's name, without dashes
	values []string // the values, in the order completion offers them
	fold   bool     // values match whatever their case (--return-when)
}

// The flags of submit, map and wait that take one of a fixed set of values.
var (
	executorChoice   = choice{flag: "executor", values: []string{runner.ThreadExecutor, runner.ProcessExecutor}}
	outputChoice     = choice{flag: "output", values: []string{"group", "line", "ungroup"}}
	progressChoice   = choice{flag: "progress", values: []string{"auto", "always", "never"}}
	workerLossChoice = choice{flag: "worker-loss", values: []string{"break", "requeue"}}
	returnWhenChoice = choice{flag: "return-when", values: []string{"FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"}, fold: true}
	thenChoice       = choice{flag: "then", values: []string{"cancel", "finish"}}
	resumeByChoice   = choice{flag: "resume-by", values: []string{"seq", "command"}}
	// haltChoice lists common --halt values; runner.ParseHalt checks them.
	haltChoice = choice{flag: "halt", values: []string{
		"never", "soon,fail=1", "now,fail=1", "soon,fail=10%", "now,fail=10%",
		"soon,success=1", "now,success=1", "soon,done=1", "now,done=1",
	}}

	// choices are every choice flag; completeChoices offers their values.
	choices = []choice{executorChoice, outputChoice, progressChoice, workerLossChoice, returnWhenChoice, thenChoice, resumeByChoice, haltChoice}
)

// check returns nil when v is one of c's values, and else the usage error
// that lists them: --output "x": want group, line or ungroup.
func (c choice) check(v string) error {
	for _, w := range c.values {
		if v == w || c.fold && strings.EqualFold(v, w) {
			return nil
		}
	}
	return usagef("--%s %q: want %s", c.flag, v, orList(c.values))
}

// complete returns c's values that begin with typed (whatever their case,
// for a fold choice).
func (c choice) complete(typed string) []string {
	var out []string
	for _, w := range c.values {
		if strings.HasPrefix(w, typed) || c.fold && strings.HasPrefix(strings.ToUpper(w), strings.ToUpper(typed)) {
			out = append(out, w)
		}
	}
	return out
}

// completeChoices registers the completion of every choice flag that cmd
// has: its values, and no file names.
func completeChoices(cmd *cobra.Command) {
	for _, c := range choices {
		if cmd.Flags().Lookup(c.flag) == nil {
			continue
		}
		_ = cmd.RegisterFlagCompletionFunc(c.flag, func(_ *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return c.complete(typed), cobra.ShellCompDirectiveNoFileComp
		})
	}
}

// orList joins values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
