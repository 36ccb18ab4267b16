// Package mangen writes the man pages of futures, one per visible command
// (section 1), from the command tree itself (github.com/spf13/cobra/doc),
// so that the pages say what --help says.
//
// It is its own program, futures-man (make man and make install run it),
// not a command of futures: cobra/doc brings a Markdown renderer and a YAML
// library whose package initialisers every run of futures would pay for at
// start-up, to serve a command that runs once per install.
package mangen

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/futures-cli/futures/cmd"
)

// Main runs `futures-man DIR` and returns its exit status: 0 when it wrote
// the pages, 1 when it could not (the error on stderr), 2 on a usage error.
// The pages are dated by $SOURCE_DATE_EPOCH when it is set (reproducible
// builds), else today.
func Main(args []string, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: futures-man DIR")
		return 2
	}
	root := cmd.NewRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	if err := Write(root, args[0]); err != nil {
		fmt.Fprintf(stderr, "futures-man: %v\n", err)
		return 1
	}
	return 0
}

// Write writes the man pages of root and its visible subcommands,
// futures.1, futures-map.1 …, into dir, creating it.
func Write(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The version without its Go and platform: "futures v1.2.0".
	source := "futures " + strings.Fields(cmd.Version())[0]
	root.DisableAutoGenTag = true
	// No Title: each page's is its command, FUTURES-MAP.
	return doc.GenManTree(root, &doc.GenManHeader{
		Section: "1",
		Source:  source,
		Manual:  "futures manual",
	}, dir)
}
