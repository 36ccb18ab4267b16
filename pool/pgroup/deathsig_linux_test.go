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

	"github.com/futures-cli/futures/internal/platform"
)

// TestAGroupIsKilledWholeWithOrWithoutPdeathsig: with the portable paths
// (macOS: no Pdeathsig), Attr asks for no death signal, and a group is
// still started and stopped as a whole with POSIX setpgid and kill(-pgid).
func TestAGroupIsKilledWholeWithOrWithoutPdeathsig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		portable bool
		want     syscall.Signal
	}{
		{"Linux: Pdeathsig", false, syscall.SIGKILL},
		{"portable: no Pdeathsig", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := platform.Portable
			platform.Portable = tc.portable
			t.Cleanup(func() { platform.Portable = saved })
			if got := Attr(syscall.SIGKILL).Pdeathsig; got != tc.want {
				t.Errorf("Attr(SIGKILL).Pdeathsig = %v, want %v", got, tc.want)
			}
			if got := SessionAttr(syscall.SIGTERM).Pdeathsig; (got != 0) != (tc.want != 0) {
				t.Errorf("SessionAttr(SIGTERM).Pdeathsig = %v", got)
			}
			if DeathSignalDelivered() == tc.portable {
				t.Errorf("DeathSignalDelivered() = %v with Portable %v", DeathSignalDelivered(), tc.portable)
			}
			// The leader ignores TERM and its child holds its stdout:
			// cancelling KILLs both, the child through the group, and the
			// pipe closes.
			cmd := exec.Command("/bin/sh", "-c", `trap '' TERM; sleep 1000 & echo ready; wait`)
			cmd.SysProcAttr = Attr(syscall.SIGKILL)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = Kill(cmd.Process.Pid) })
			// A generous patience: the pipe closes at once when the group is KILLed.
			_ = out.(*os.File).SetReadDeadline(time.Now().Add(30 * time.Second))
			r := bufio.NewReader(out)
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			g := Watch(ctx, cmd.Process.Pid, time.Millisecond, nil)
			cancel()
			waitExit(t, cmd.Process.Pid)
			g.Reap()
			if _, err := r.ReadByte(); err != io.EOF {
				t.Errorf("reading the leader's stdout: %v, want EOF (its child KILLed with the group)", err)
			}
			if sig := signalOf(t, cmd); sig != syscall.SIGKILL {
				t.Errorf("the leader ended by %v, want KILL", sig)
			}
		})
	}
}
