package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool"
)

func TestExecJobRunsASpecInTheEnvironmentAndDirectoryItIsGiven(t *testing.T) {
	bin := t.TempDir()
	dir := t.TempDir()
	// A program only the given environment's PATH can find.
	if err := os.WriteFile(filepath.Join(bin, "futures-test-hello"), []byte("#!/bin/sh\necho \"hello $GREETING $FUTURES_SEQ $(pwd)\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=" + bin + ":/usr/bin:/bin", "GREETING=from-init", "FUTURES_SEQ=0"}
	var out, errb bytes.Buffer
	var started int
	jo := ExecJob(context.Background(), pool.JobSpec{
		Line: "futures-test-hello", Argv: []string{"futures-test-hello"},
		Env: []string{"FUTURES_SEQ=7"}, Environ: environ, Dir: dir,
	}, pool.JobIO{Stdout: &out, Stderr: &errb, Started: func(pid int) { started = pid }})
	if jo.ExitCode != 0 || jo.Error != "" {
		t.Fatalf("outcome %+v, stderr %q", jo, errb.String())
	}
	if want := "hello from-init 7 " + dir + "\n"; out.String() != want {
		t.Fatalf("stdout %q, want %q", out.String(), want)
	}
	if started <= 0 || jo.Start.IsZero() || jo.Duration <= 0 {
		t.Fatalf("Started(%d), outcome %+v", started, jo)
	}

	// Without the environment, the runner's PATH does not have it.
	jo = ExecJob(context.Background(), pool.JobSpec{Line: "futures-test-hello", Argv: []string{"futures-test-hello"}}, pool.JobIO{})
	if jo.ExitCode != 127 || !strings.Contains(jo.Error, "command not found") {
		t.Fatalf("outcome %+v, want command not found", jo)
	}
}

func TestExecJobReportsASignalAndACancel(t *testing.T) {
	jo := ExecJob(context.Background(), pool.JobSpec{Line: "kill -KILL $$", Shell: true}, pool.JobIO{})
	if jo.ExitCode != 137 || jo.Signal != "SIGKILL" {
		t.Fatalf("outcome %+v", jo)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	jo = ExecJob(ctx, pool.JobSpec{Line: "sleep 10", Argv: []string{"sleep", "10"}, Grace: time.Second}, pool.JobIO{})
	if !jo.Canceled || jo.Signal != "SIGTERM" {
		t.Fatalf("outcome %+v", jo)
	}
}

func TestOutcomeOfAWorkersReport(t *testing.T) {
	start := time.Now()
	out := outcomeOf(pool.JobOutcome{ExitCode: 126, Signal: "", Error: "x: cannot execute", Start: start, Duration: time.Second, MaxRSSKB: 9, User: 2, Sys: 3, Canceled: true})
	if out.ExitCode != 126 || out.Err == nil || out.Err.Error() != "x: cannot execute" || !out.Start.Equal(start) ||
		out.Duration != time.Second || out.MaxRSSKB != 9 || out.User != 2 || out.Sys != 3 || !out.Canceled {
		t.Fatalf("%+v", out)
	}
	if out := outcomeOf(pool.JobOutcome{ExitCode: 0}); out.Err != nil {
		t.Fatalf("no error reported, Err %v", out.Err)
	}
}

func TestEnvironKeepsTheBaseItIsGiven(t *testing.T) {
	base := []string{"A=1", "PATH=/x"}
	if got := environ(base, nil, ""); strings.Join(got, " ") != "A=1 PATH=/x" {
		t.Fatalf("environ(base) = %q", got)
	}
	got := environ(base, []string{"A=2", "B=" + strconv.Itoa(3)}, "/tmp")
	if strings.Join(got, " ") != "PATH=/x A=2 B=3 PWD=/tmp" {
		t.Fatalf("environ(base, extra, dir) = %q", got)
	}
	if environ(nil, nil, "") != nil {
		t.Fatal("environ(nil, nil, \"\") is not nil")
	}
}
