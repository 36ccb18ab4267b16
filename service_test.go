package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// serviceCmds are the testscript commands of the executor service's
// scripts (service.txtar):
//
//	kill-service NAME        SIGKILL service NAME (its pid file's pid) and
//	                         wait until it is dead (its pid lock free)
//	seed-store NAME LINE...  add a future per LINE to NAME's store, the
//	                         first one RUNNING, the rest PENDING
//	wait-file PATH           wait until PATH exists (a job made it); fail
//	                         after 30 s
var serviceCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"kill-service": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: kill-service NAME")
		}
		p := scriptPaths(ts, args[0])
		ts.Check(killService(p))
	},
	"wait-file": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: wait-file PATH")
		}
		path := ts.MkAbs(args[0])
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%s did not appear within 30s", path)
			}
			time.Sleep(5 * time.Millisecond)
		}
	},
	"seed-store": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: seed-store NAME LINE...")
		}
		p := scriptPaths(ts, args[0])
		st, err := store.Open(p.StateDir)
		ts.Check(err)
		defer st.Close()
		ctx := context.Background()
		var specs []store.Spec
		for _, line := range args[1:] {
			specs = append(specs, store.Spec{Client: "seed", Line: line})
		}
		ids, err := st.Submit(ctx, specs)
		ts.Check(err)
		_, err = st.Start(ctx, ids[0], "1", "", time.Now())
		ts.Check(err)
	},
}

// scriptPaths resolves service name in the script's environment.
func scriptPaths(ts *testscript.TestScript, name string) service.Paths {
	for _, k := range []string{"XDG_RUNTIME_DIR", "XDG_STATE_HOME"} {
		if !strings.HasPrefix(ts.Getenv(k), ts.Getenv("WORK")) {
			ts.Fatalf("%s is not under $WORK", k)
		}
	}
	return service.Paths{
		Name:       name,
		RuntimeDir: filepath.Join(ts.Getenv("XDG_RUNTIME_DIR"), "futures", name),
		StateDir:   filepath.Join(ts.Getenv("XDG_STATE_HOME"), "futures", name),
	}
}

// killService SIGKILLs the service at p, when one runs, and waits until
// its pid lock is free: the process is gone. A hang detector bounds the
// wait generously.
func killService(p service.Paths) error {
	if !service.Alive(p) {
		return nil
	}
	b, err := os.ReadFile(p.PIDPath())
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for service.Alive(p) {
		if time.Now().After(deadline) {
			return os.ErrDeadlineExceeded
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// killScriptServices kills every service a script left running under
// runtimeDir: a script that failed before its shutdown leaves no process.
func killScriptServices(runtimeDir, stateHome string) {
	pids, _ := filepath.Glob(filepath.Join(runtimeDir, "futures", "*", service.PIDFile))
	for _, pidFile := range pids {
		dir := filepath.Dir(pidFile)
		name := filepath.Base(dir)
		killService(service.Paths{Name: name, RuntimeDir: dir, StateDir: filepath.Join(stateHome, "futures", name)})
	}
}
