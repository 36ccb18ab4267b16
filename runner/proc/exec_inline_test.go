package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/output"
)

func testExecInline(t *testing.T) {
	inline := func(o ExecOptions) ExecOptions { o.Inline = true; return o }
	t.Run("the same writer for stdout and stderr keeps their order", func(t *testing.T) {
		var w execOut
		out := Exec(context.Background(), shellCmd(`echo out; echo err >&2; echo out2`), inline(ExecOptions{Stdout: &w, Stderr: &w}))
		if got := w.String(); out.Err != nil || out.ExitCode != 0 || got != "out\nerr\nout2\n" {
			t.Errorf("got %q (%+v)", got, out)
		}
	})
	t.Run("separate writers get their own stream", func(t *testing.T) {
		var stdout, stderr execOut
		out := Exec(context.Background(), shellCmd(`echo out; echo err >&2; exit 3`), inline(ExecOptions{Stdout: &stdout, Stderr: &stderr}))
		if stdout.String() != "out\n" || stderr.String() != "err\n" || out.ExitCode != 3 {
			t.Errorf("stdout %q, stderr %q, %+v", stdout.String(), stderr.String(), out)
		}
	})
	t.Run("output larger than a pipe is read while the job runs", func(t *testing.T) {
		s := output.NewSpool(t.TempDir(), output.NewBudget(1<<20))
		defer s.Close()
		var stderr execOut
		out := Exec(context.Background(), shellCmd(`head -c 3000000 /dev/zero; head -c 200000 /dev/zero >&2`), inline(ExecOptions{Stdout: s, Stderr: &stderr}))
		if out.Err != nil || s.Len() != 3000000 || len(stderr.String()) != 200000 {
			t.Errorf("spooled %d and %d bytes (%+v)", s.Len(), len(stderr.String()), out)
		}
	})
	t.Run("a write error is reported and the pipe still drained", func(t *testing.T) {
		w := &execFailWriter{n: 1}
		out := Exec(context.Background(), argvCmd("head", "-c", "5000000", "/dev/zero"), inline(ExecOptions{Stdout: w}))
		if out.ExitCode != 0 || !errors.Is(out.Err, errExecDiskFull) {
			t.Errorf("got %+v, want exit 0 and a writing output error", out)
		}
	})
	t.Run("it starts no goroutine", func(t *testing.T) {
		before := runtime.NumGoroutine()
		var stdout, stderr execOut
		// The job runs until the test has counted the goroutines.
		counted := filepath.Join(t.TempDir(), "counted")
		ch := execAsync(context.Background(), shellCmd(`echo ready; echo err >&2; while [ ! -e '`+counted+`' ]; do sleep 0.01; done; echo done`), inline(ExecOptions{Stdout: &stdout, Stderr: &stderr}))
		execEventually(t, patience, "the job to be ready", func() bool { return strings.Contains(stdout.String(), "ready") })
		if n := runtime.NumGoroutine(); n > before+1 { // execAsync's own
			t.Errorf("%d goroutines while the job runs, %d before: Exec started %d", n, before, n-before-1)
		}
		if err := os.WriteFile(counted, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if out := execResult(t, ch, patience); out.Err != nil || stdout.String() != "ready\ndone\n" || stderr.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q, %+v", stdout.String(), stderr.String(), out)
		}
	})
	t.Run("a stdin to feed falls back to goroutines", func(t *testing.T) {
		var stdout execOut
		out := Exec(context.Background(), argvCmd("cat"), inline(ExecOptions{Stdin: strings.NewReader("fed\n"), Stdout: &stdout}))
		if out.Err != nil || stdout.String() != "fed\n" {
			t.Errorf("got %q (%+v)", stdout.String(), out)
		}
	})
	t.Run("cancel sends TERM to the group and what was printed arrives", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout execOut
		ch := execAsync(ctx, shellCmd(`sleep 60 & echo $!; wait`), inline(ExecOptions{Stdout: &stdout, Grace: 30 * time.Second}))
		execEventually(t, patience, "the job's grandchild", func() bool { return len(execPids(t, stdout.String())) == 1 })
		pid := execPids(t, stdout.String())[0]
		cancel()
		out := execResult(t, ch, patience)
		if !out.Canceled || out.Signal != "SIGTERM" {
			t.Errorf("got %+v, want a job canceled by SIGTERM", out)
		}
		execEventually(t, patience, "the grandchild to end", func() bool { return !procAlive(pid) })
	})
	t.Run("a grandchild holding stdout does not hang Exec and is killed", func(t *testing.T) {
		var stdout execOut
		begin := time.Now()
		// As in TestExecBackgroundGrandchild: the grandchild outlasts patience.
		out := Exec(context.Background(), shellCmd(`sleep 120 & echo $!`), inline(ExecOptions{Stdout: &stdout}))
		if d := time.Since(begin); d >= patience {
			t.Errorf("Exec took %v: it waited for the grandchild", d)
		}
		pids := execPids(t, stdout.String())
		if out.ExitCode != 0 || out.Err != nil || len(pids) != 1 {
			t.Fatalf("got %+v, output %q", out, stdout.String())
		}
		execEventually(t, patience, "the grandchild to end", func() bool { return !procAlive(pids[0]) })
	})
	t.Run("a detached grandchild holding stdout is reported after the drain delay", func(t *testing.T) {
		if _, err := exec.LookPath("setsid"); err != nil {
			t.Skip("no setsid")
		}
		var stdout execOut
		begin := time.Now()
		out := Exec(context.Background(), shellCmd(`setsid sh -c 'echo $$; sleep 120' &
while [ "$(cut -d' ' -f6 /proc/$!/stat)" != $! ]; do sleep 0.01; done
echo more`), inline(ExecOptions{Stdout: &stdout}))
		d := time.Since(begin)
		pids := execPids(t, stdout.String())
		for _, pid := range pids {
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		}
		if !strings.Contains(stdout.String(), "more\n") || len(pids) != 1 {
			t.Fatalf("output %q", stdout.String())
		}
		if d < drainDelay || d >= patience {
			t.Errorf("Exec took %v, want at least %v and not the detached process's life", d, drainDelay)
		}
		if out.ExitCode != 0 || !errors.Is(out.Err, exec.ErrWaitDelay) || !errors.Is(out.Err, job.ErrHeldOutput) {
			t.Errorf("got %+v, want the held output reported", out)
		}
	})
}
