package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/futures-cli/futures/cmd"
	"github.com/futures-cli/futures/internal/mangen"
	"github.com/futures-cli/futures/internal/platform"
)

// TestMain installs the futures command for the scripts, runs the tests,
// then stops the daemons they started (daemons_test.go).
func TestMain(m *testing.M) {
	testscript.Main(daemonsAfter{m}, map[string]func(){
		"futures":     func() { os.Exit(cmd.Main(os.Args[1:])) },
		"futures-man": func() { os.Exit(mangen.Main(os.Args[1:], os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each runs
// the futures command and checks its output and exit status. Scripts that
// need sshd or Slurm say so with need-sshd or need-slurm (daemons_test.go).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds:                scriptCmds(),
		Setup: func(e *testscript.Env) error {
			e.Values[scriptT{}] = e.T()
			e.Setenv("TMPDIR", e.WorkDir)
			// Under -race, futures is a race-built binary, whose every exit
			// sleeps a second for late race reports: not in these scripts.
			e.Setenv("GORACE", "atexit_sleep_ms=0")
			// make test-portable: the scripts' futures takes the portable
			// paths too (testscript passes on no other variable).
			if v := os.Getenv(platform.ForceEnv); v != "" {
				e.Setenv(platform.ForceEnv, v)
			}
			// The executor service's directories, never the real ones; a
			// service a script left running is killed when it ends.
			run, state := e.WorkDir+"/run", e.WorkDir+"/state"
			e.Setenv("XDG_RUNTIME_DIR", run)
			e.Setenv("XDG_STATE_HOME", state)
			e.Defer(func() { killScriptServices(run, state) })
			return nil
		},
	})
}

// scriptCmds are the scripts' own commands: daemonCmds and serviceCmds.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for k, v := range daemonCmds {
		cmds[k] = v
	}
	for k, v := range serviceCmds {
		cmds[k] = v
	}
	return cmds
}
