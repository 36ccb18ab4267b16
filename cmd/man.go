package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newCmdMan builds `futures man DIR`, hidden: it writes a man page
// (section 1) for every visible command into DIR, creating it, from the
// command tree itself (github.com/spf13/cobra/doc), so the pages say what
// --help says. make man and make install run it. The pages are dated by
// $SOURCE_DATE_EPOCH when set (reproducible builds), else today.
func newCmdMan(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the man pages of futures and its commands into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := writeManPages(cmd.Root(), args[0]); err != nil {
				fmt.Fprintf(f.stderr, "futures man: %v\n", err)
				return exitStatus(1)
			}
			return nil
		},
	}
}

// writeManPages writes root's man pages, futures.1, futures-map.1 …, into
// dir.
func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The version without its Go and platform: "futures v1.2.0".
	source := "futures " + strings.Fields(version())[0]
	root.DisableAutoGenTag = true
	// No Title: each page's is its command, FUTURES-MAP.
	return doc.GenManTree(root, &doc.GenManHeader{
		Section: "1",
		Source:  source,
		Manual:  "futures manual",
	}, dir)
}
