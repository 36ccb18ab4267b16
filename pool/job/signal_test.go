package job

import (
	"syscall"
	"testing"
)

func TestSignalNames(t *testing.T) {
	for _, s := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGSEGV, syscall.SIGHUP, 34} {
		name := SignalName(s)
		if n, ok := SignalNumber(name); !ok || n != int(s) {
			t.Errorf("signal %d is named %q, which reads back as %d", s, name, n)
		}
	}
	if SignalName(syscall.SIGKILL) != "SIGKILL" {
		t.Errorf("SIGKILL is named %q", SignalName(syscall.SIGKILL))
	}
}
