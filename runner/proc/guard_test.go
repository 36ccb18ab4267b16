package proc

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSweepKillsTheMarkedProcessesOnly starts two processes in this
// session, one marked with the run's id and one with another, and checks
// that Sweep KILLs the first and leaves the second.
func TestSweepKillsTheMarkedProcessesOnly(t *testing.T) {
	id := strconv.Itoa(os.Getpid()) + "-sweep-test"
	start := func(mark string) *exec.Cmd {
		c := exec.Command("sleep", "600")
		c.Env = append(os.Environ(), runEnv+"="+mark)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	marked, other := start(id), start(id+"-other")
	t.Cleanup(func() {
		_ = other.Process.Kill()
		_ = other.Wait()
	})

	if n := Sweep(id); n != 1 {
		_ = marked.Process.Kill()
		t.Errorf("Sweep killed %d processes, want 1", n)
	}
	var ee *exec.ExitError
	if err := marked.Wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the marked process ended with %v, want KILLed", err)
	}
	if !procAlive(other.Process.Pid) {
		t.Error("the process of another run was killed")
	}
	if n := Sweep(id); n != 0 {
		t.Errorf("a second Sweep killed %d processes, want 0", n)
	}
}

// The end of a run does not wait for its guard to have started: stop KILLs
// the guard's process group, whatever the guard is doing (here a "shell"
// that never gets to read the runner's line), and reaps it.
func TestStopGuardDoesNotWaitForTheGuard(t *testing.T) {
	dir := t.TempDir()
	slow := dir + "/slow-sh"
	if err := os.WriteFile(slow, []byte("#!/bin/sh\necho $$ > "+dir+"/pid\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer func(old string) { guardShell = old }(guardShell)
	guardShell = slow
	defer func(old string, had bool) {
		if had {
			os.Setenv(runEnv, old)
		} else {
			os.Unsetenv(runEnv)
		}
	}(os.LookupEnv(runEnv))

	stop := StartGuard()
	var pid int
	execEventually(t, patience, "the guard to start", func() bool {
		b, err := os.ReadFile(dir + "/pid")
		if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
			return false
		}
		pid, err = strconv.Atoi(string(b[:len(b)-1]))
		return err == nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop()
	}()
	select {
	case <-done:
	case <-time.After(patience):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-done
		t.Fatal("stop waited for the guard to read its line")
	}
	if procAlive(pid) {
		t.Errorf("the guard (pid %d) is still there after stop", pid)
	}
}
