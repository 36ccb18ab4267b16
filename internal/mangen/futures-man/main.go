// Command futures-man writes the man pages of futures into a directory:
//
//	go run ./internal/mangen/futures-man DIR
//
// make man and make install run it (package mangen says why it is not a
// command of futures itself).
package main

import (
	"os"

	"github.com/futures-cli/futures/internal/mangen"
)

func main() { os.Exit(mangen.Main(os.Args[1:], os.Stderr)) }
