package cmd

import (
	"io"
	"os"
	"runtime"
)

// factory is what a command needs from the process: its streams, its CPU
// count (-j, --load) and its environment (FUTURES_PROC). Main makes the
// process's own; a test makes one of its own, so that what a command
// makes of its flags reads nothing global (cli/cli's cmdutil.Factory).
type factory struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	numCPU         func() int
	getenv         func(string) string
}

// newFactory is the factory of this process over the given streams.
func newFactory(stdin io.Reader, stdout, stderr io.Writer) *factory {
	return &factory{stdin: stdin, stdout: stdout, stderr: stderr, numCPU: runtime.NumCPU, getenv: os.Getenv}
}
