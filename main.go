// Command futures runs jobs in parallel, the way Python's concurrent.futures
// runs calls: an executor takes jobs, each job gets a future, and the caller
// waits on the futures to stream results, progress and an exit-code summary.
package main

import "github.com/futures-cli/futures/cmd"

func main() { cmd.Execute() }
