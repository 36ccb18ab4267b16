// Package cmd holds the cobra commands of futures: flag parsing, wiring and
// rendering. The logic lives in the runner, pool and future packages.
//
// Each command has an options struct and a newCmdX(f, runF) constructor
// (cli/cli's pattern): f, a factory, gives what the command needs from the
// process; runF is handed the parsed options (nil: the real run), so that
// a test checks a command's flag handling without running anything.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// NewRootCmd builds the futures command tree over the given streams.
func NewRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return buildRoot(newFactory(stdin, stdout, stderr), "")
}

// subcommand is a subcommand of futures and how to build it.
type subcommand struct {
	name  string
	build func(f *factory) *cobra.Command
}

// subcommands are the subcommands of futures, in the order they are added.
var subcommands = []subcommand{
	{"submit", func(f *factory) *cobra.Command { return newCmdSubmit(f, nil) }},
	{"map", func(f *factory) *cobra.Command { return newCmdMap(f, nil) }},
	{"wait", func(f *factory) *cobra.Command { return newCmdWait(f, nil) }},
	{"version", func(f *factory) *cobra.Command { return newCmdVersion(f, nil) }},
	{"worker", func(f *factory) *cobra.Command { return newCmdWorker(f, nil) }},
	{"guard", func(f *factory) *cobra.Command { return newCmdGuard(f, nil) }},
	{"service", newCmdService},
	{"start", newCmdStart},
	{"shutdown", newCmdShutdown},
	{"status", newCmdStatus},
	{"report", func(f *factory) *cobra.Command { return newCmdReport(f, nil) }},
	{"result", idCommand(newCmdResult)},
	{"exception", idCommand(newCmdException)},
	{"done", idCommand(newCmdDone)},
	{"running", idCommand(newCmdRunning)},
	{"cancelled", idCommand(newCmdCancelled)},
	{"cancel", idCommand(newCmdCancel)},
	{"as-completed", idCommand(newCmdAsCompleted)},
	{"follow", idCommand(newCmdFollow)},
	{"forget", idCommand(newCmdForget)},
	{"add-done-callback", newCmdAddDoneCallbackCompleted},
}

// buildRoot builds the root command over f with its subcommands: all of
// them, or, when only names one, that one alone. A run builds only the
// command it runs (Main): each one built is flag sets, defaults and help
// texts allocated at every start, which a shell loop of submit --detach
// pays for at each call.
func buildRoot(f *factory, only string) *cobra.Command {
	root := newRoot(f)
	for _, s := range subcommands {
		if only == "" || s.name == only {
			root.AddCommand(s.build(f))
		}
	}
	return root
}

// runs returns the subcommand that args run when their first word names
// one, or "": help, completion, a flag, an unknown word, or nothing, which
// need the whole tree (to list, complete or suggest its commands).
func runs(args []string) string {
	if len(args) == 0 {
		return ""
	}
	for _, s := range subcommands {
		if s.name == args[0] {
			return s.name
		}
	}
	return ""
}

// newRoot builds the root command over f's streams, without its
// subcommands.
func newRoot(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "futures",
		Short: "Run jobs in parallel with concurrent.futures semantics",
		Long: `futures runs jobs in parallel, the way Python's concurrent.futures runs calls:
an executor (a thread pool or a process pool) takes jobs, each job gets a future,
and futures waits on them to stream results, a progress bar and an exit-code summary.

Exit status: 0 all jobs succeeded; 1 a job failed; 2 usage error (nothing ran);
3 the pool broke; 4 the overall --timeout passed; 128+N stopped by signal N.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("futures {{.Version}}\n")
	root.SetIn(f.stdin)
	root.SetOut(f.stdout)
	root.SetErr(f.stderr)
	root.SetFlagErrorFunc(flagError)
	return root
}

// Execute runs the command line and exits with its status.
func Execute() {
	os.Exit(Main(os.Args[1:]))
}

// Main runs the command line args over the process's streams and returns
// the exit status.
func Main(args []string) int {
	f := newFactory(os.Stdin, os.Stdout, os.Stderr)
	return runRoot(buildRoot(f, runs(args)), os.Stderr, args)
}

// runRoot runs root with args and returns the exit status: 0, the status a
// command returned (exitStatus), or 2 for any other error, a usage error,
// which it writes to stderr with a hint.
func runRoot(root *cobra.Command, stderr io.Writer, args []string) int {
	root.SetArgs(args)
	c, err := root.ExecuteC()
	var st exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &st):
		return int(st)
	default:
		if c == nil {
			c = root
		}
		printUsageError(stderr, c, err)
		return 2
	}
}

// printUsageError writes err, a usage error of command c, and a hint line
// pointing at c's help, as git and go do.
func printUsageError(w io.Writer, c *cobra.Command, err error) {
	msg := strings.TrimRight(err.Error(), "\n")
	fmt.Fprintf(w, "futures: %s\n", msg)
	if strings.Contains(msg, "\n") { // a "Did you mean this?" list
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Run '%s --help' for usage.\n", c.CommandPath())
}

// flagError is the usage error of a flag that cannot be parsed: a bad
// value's own message when its flag gives one (as the duration flags do).
func flagError(c *cobra.Command, err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		return ue
	}
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() == "" {
		if names := suggestFlags(c.Flags(), ne.GetSpecifiedName()); len(names) > 0 {
			return usagef("%v\n\nDid you mean this?\n\t--%s", err, strings.Join(names, "\n\t--"))
		}
	}
	return usageError{err}
}

// suggestFlags returns the names of fs's visible flags that typed may have
// meant: those it begins (--time for --timeout), then those within one
// edit of it (two for a name longer than four letters; swapping two
// neighbours is one edit), closest first, at most four.
func suggestFlags(fs *pflag.FlagSet, typed string) []string {
	type near struct {
		name string
		rank int
	}
	limit := 1
	if len(typed) > 4 {
		limit = 2
	}
	var found []near
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		switch d := editDistance(typed, f.Name); {
		case len(typed) >= 3 && strings.HasPrefix(f.Name, typed):
			found = append(found, near{f.Name, 0})
		case d <= limit:
			found = append(found, near{f.Name, d})
		}
	})
	sort.SliceStable(found, func(i, j int) bool { return found[i].rank < found[j].rank })
	var names []string
	for i := 0; i < len(found) && i < 4; i++ {
		names = append(names, found[i].name)
	}
	return names
}

// editDistance is the number of edits between a and b, in bytes: an
// insertion, a deletion, a change or a swap of two neighbours is one
// (optimal string alignment distance).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
