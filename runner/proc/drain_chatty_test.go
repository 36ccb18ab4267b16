package proc

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowOut takes output slowly, as a terminal or a busy disk does (the sleep
// paces the writes only; the test waits on Exec's return).
type slowOut struct{ execOut }

func (w *slowOut) Write(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return w.execOut.Write(p)
}

// A grandchild detached with setsid that keeps writing: Exec must stop
// reading drainDelay after the job's group is gone (the goroutine path
// does: each chunk is one rc.Read that checks the deadline).
func TestDrainDeadlineHoldsAgainstAChattyDetachedWriter(t *testing.T) {
	for _, mode := range []string{"netpoll", "goroutines"} {
		t.Run(mode, func(t *testing.T) {
			pidFile := t.TempDir() + "/pid"
			var out slowOut
			o := ExecOptions{Stdout: &out}
			if mode == "goroutines" {
				o.Stdin = strings.NewReader("") // forces the reader goroutines
			}
			ch := execAsync(context.Background(), shellCmd(`setsid sh -c 'echo $$ > `+pidFile+`; exec yes' &
while [ ! -s `+pidFile+` ]; do sleep 0.01; done; sleep 0.2`), o)
			defer func() {
				if b, err := os.ReadFile(pidFile); err == nil {
					for _, pid := range execPids(t, string(b)) {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}()
			select {
			case r := <-ch:
				t.Logf("returned: %v", r.Err)
			case <-time.After(drainDelay + 8*time.Second):
				t.Fatalf("Exec still reading %v after the job ended (drainDelay %v)", drainDelay+8*time.Second, drainDelay)
			}
		})
	}
}
