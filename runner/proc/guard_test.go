package proc

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
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
