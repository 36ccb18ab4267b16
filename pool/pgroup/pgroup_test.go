package pgroup

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// start starts sh -c script as the leader of a new group; the script's
// first line on stdout says it is ready.
func start(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = Attr(syscall.SIGKILL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Kill(cmd.Process.Pid); _ = cmd.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("waiting for the script to be ready: %v", err)
	}
	return cmd
}

// signalOf is the signal that killed cmd, or 0.
func signalOf(t *testing.T, cmd *exec.Cmd) syscall.Signal {
	t.Helper()
	err := cmd.Wait()
	if err == nil {
		return 0
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		t.Fatalf("want a signal, got %v", err)
	}
	return ws.Signal()
}

func TestSignalIgnoresAGroupThatIsGone(t *testing.T) {
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = Attr(0)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := Kill(cmd.Process.Pid); err != nil {
		t.Errorf("Kill of a group that is gone: %v, want nil (ESRCH ignored)", err)
	}
}

func TestSignalRefusesTheCallersGroupAndInit(t *testing.T) {
	for _, pgid := range []int{-5, 0, 1} {
		if err := Signal(pgid, 0); err != syscall.EINVAL {
			t.Errorf("Signal(%d): %v, want EINVAL", pgid, err)
		}
	}
}

func TestWatchSendsTermThenKillAfterGrace(t *testing.T) {
	cmd := start(t, `trap '' TERM; echo ready; while :; do sleep 1; done`)
	ctx, cancel := context.WithCancel(context.Background())
	g := Watch(ctx, cmd.Process.Pid, 10*time.Millisecond, nil)
	cancel()
	waitExit(t, cmd.Process.Pid)
	if !g.Reap() {
		t.Error("Reap: canceled is false, want true")
	}
	if sig := signalOf(t, cmd); sig != syscall.SIGKILL {
		t.Errorf("the leader, which ignores TERM, ended by %v, want KILL", sig)
	}
}

func TestWatchSendsTermFirst(t *testing.T) {
	cmd := start(t, `echo ready; while :; do sleep 1; done`)
	ctx, cancel := context.WithCancel(context.Background())
	g := Watch(ctx, cmd.Process.Pid, time.Hour, nil)
	cancel()
	waitExit(t, cmd.Process.Pid)
	g.Reap()
	if sig := signalOf(t, cmd); sig != syscall.SIGTERM {
		t.Errorf("ended by %v, want TERM", sig)
	}
}

func TestWatchKillsAtOnceWhenKillIsClosed(t *testing.T) {
	cmd := start(t, `trap '' TERM; echo ready; while :; do sleep 1; done`)
	ctx, cancel := context.WithCancel(context.Background())
	kill := make(chan struct{})
	close(kill)
	g := Watch(ctx, cmd.Process.Pid, time.Hour, kill)
	cancel()
	waitExit(t, cmd.Process.Pid)
	g.Reap()
	if sig := signalOf(t, cmd); sig != syscall.SIGKILL {
		t.Errorf("ended by %v, want KILL", sig)
	}
}

func TestReapKillsWhatTheLeaderLeft(t *testing.T) {
	// The leader starts a background child that holds a pipe open, then
	// exits: Reap must KILL the child, so that the pipe closes.
	cmd := exec.Command("/bin/sh", "-c", `sleep 1000 & echo ready`)
	cmd.SysProcAttr = Attr(0)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Kill(cmd.Process.Pid) })
	// A generous patience: the pipe closes at once when Reap does its job.
	_ = out.(*os.File).SetReadDeadline(time.Now().Add(30 * time.Second))
	g := Watch(context.Background(), cmd.Process.Pid, 0, nil)
	r := bufio.NewReader(out)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd.Process.Pid)
	if g.Reap() {
		t.Error("Reap: canceled is true with no ctx that ended")
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("reading the leader's stdout after Reap: %v, want EOF (the child holding it KILLed)", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the leader: %v", err)
	}
}
