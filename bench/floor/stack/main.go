// Command stack is the start-up floor of a Go program built on the modules
// futures must use (cobra for its commands, progressbar, which links
// net/http, and modernc.org/sqlite for the executor service's store): one
// cobra command that writes its argument and exits. Nothing of futures'
// own is in it; the difference between its start and `futures version` is
// what futures' own code costs at start-up (bench/run.sh, rows 9 and 16;
// docs/performance.md, "The start-up floor").
package main

import (
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite" // linked, so its package initialisers run
)

// The progress bar is linked as futures links it: its package
// initialisers, and net/http's, run at start.
var _ = progressbar.NewOptions

func main() {
	root := &cobra.Command{
		Use:  "stack WORD",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			_, err := os.Stdout.WriteString(args[0] + "\n")
			return err
		},
	}
	if root.Execute() != nil {
		os.Exit(1)
	}
}
