package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/futures-cli/futures/cmd"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"futures": func() { os.Exit(cmd.Main(os.Args[1:])) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each runs
// the futures command and checks its output and exit status.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("TMPDIR", e.WorkDir)
			// Under -race, futures is a race-built binary, whose every exit
			// sleeps a second for late race reports: not in these scripts.
			e.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
	})
}
