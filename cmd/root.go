// Package cmd holds the cobra commands of futures: flag parsing, wiring and
// rendering. The logic lives in the runner, pool and future packages.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Version is the version of this build, set with -ldflags at link time.
var Version = "dev"

// NewRootCmd builds the futures command tree over the given streams.
func NewRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "futures",
		Short: "Run jobs in parallel with concurrent.futures semantics",
		Long: `futures runs jobs in parallel, the way Python's concurrent.futures runs calls:
an executor (a thread pool or a process pool) takes jobs, each job gets a future,
and futures waits on them to stream results, a progress bar and an exit-code summary.

Exit status: 0 all jobs succeeded; 1 a job failed; 2 usage error (nothing ran);
3 the pool broke; 4 the overall --timeout passed; 128+N stopped by signal N.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("futures {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newSubmitCmd(e), newMapCmd(e), newWaitCmd(e), newWorkerCmd(e), newGuardCmd())
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
	root := NewRootCmd(os.Stdin, os.Stdout, os.Stderr)
	root.SetArgs(args)
	err := root.Execute()
	var st exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &st):
		return int(st)
	default:
		fmt.Fprintf(os.Stderr, "futures: %v\n", err)
		return 2
	}
}

// flagError is the usage error of a flag that cannot be parsed: a bad
// value's own message when its flag gives one (as the duration flags do).
func flagError(c *cobra.Command, err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		return ue
	}
	return usageError{err}
}
