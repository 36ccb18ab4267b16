// Command jobs is the memory floor of bench row 15 (3,000 `sleep 1` at
// -j1000): it runs one `sleep ARG` per line of its standard input, at most
// 1,000 at once, as futures' thread executor does, but with no goroutine
// per running job: one loop waits on an epoll set of the jobs' pidfds, and
// a running job is a small struct. It links futures' package cmd (and
// runs its package initialisers) so that its binary, and the pages of it
// that a start touches, are those of futures. Linux only.
//
// What it leaves out is what futures does per job (output pipes, spools,
// futures, records, cancellation, retries): the difference between its
// peak RSS and futures' is what those cost, and how far a design without
// a goroutine per waiting job could go (docs/performance.md, "Memory").
package main

import (
	"fmt"
	"os"

	_ "github.com/futures-cli/futures/cmd" // futures' binary, and its initialisers
)

func main() {
	if err := run(1000); err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(1)
	}
}
