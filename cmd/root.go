// Package cmd holds the cobra commands of futures: flag parsing, wiring and
// rendering. The logic lives in the runner, pool and future packages.
package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Version is the version of this build, set with -ldflags at link time.
var Version = "dev"

// NewRootCmd builds the futures command tree.
func NewRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "futures",
		Short: "Run jobs in parallel with concurrent.futures semantics",
		Long: `futures runs jobs in parallel, the way Python's concurrent.futures runs calls:
an executor (a thread pool or a process pool) takes jobs, each job gets a future,
and futures waits on them to stream results, a progress bar and an exit-code summary.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("futures {{.Version}}\n")
	return root
}

// Execute runs the command line and exits with its status.
func Execute() {
	os.Exit(Main(os.Args[1:]))
}

// Main runs the command line args and returns the exit status.
func Main(args []string) int {
	root := NewRootCmd()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "futures: %v\n", err)
		return 2
	}
	return 0
}
