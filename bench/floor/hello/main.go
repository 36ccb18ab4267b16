// Command hello is the start-up floor of any Go program on the machine a
// benchmark runs on: it writes its argument and exits (bench/run.sh, rows
// 9 and 16; docs/performance.md, "The start-up floor").
package main

import "os"

func main() {
	if len(os.Args) > 1 {
		os.Stdout.WriteString(os.Args[1] + "\n")
	}
}
