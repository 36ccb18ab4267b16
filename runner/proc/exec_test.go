package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/output"
	"github.com/futures-cli/futures/runner/shell"
)

// execOut is a writer whose content tests watch while a job runs.
type execOut struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *execOut) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *execOut) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// patience bounds every wait of this package's tests that is not itself
// under test: a test that needs it has hung. It is generous, so that a
// loaded machine (a -race build, other packages tested at once) never runs
// out of it; no test asserts a wall-clock bound tighter than it.
const patience = time.Minute

// execEventually polls cond until it holds, failing the test after d.
func execEventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("still waiting after %v for %s", d, what)
		case <-tick.C:
		}
	}
}

// procAlive reports whether process pid exists and is not a zombie.
func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// execPids parses the pids a job printed, one a line.
func execPids(t *testing.T, out string) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(out) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func shellCmd(line string) shell.Command { return shell.Command{Line: line, Shell: true} }

func argvCmd(argv ...string) shell.Command {
	return shell.Command{Line: strings.Join(argv, " "), Argv: argv}
}

// execAsync runs Exec in a goroutine; the channel yields its Outcome.
func execAsync(ctx context.Context, c shell.Command, o ExecOptions) <-chan job.Outcome {
	ch := make(chan job.Outcome, 1)
	go func() { ch <- Exec(ctx, c, o) }()
	return ch
}

func execResult(t *testing.T, ch <-chan job.Outcome, d time.Duration) job.Outcome {
	t.Helper()
	select {
	case out := <-ch:
		return out
	case <-time.After(d):
		t.Fatalf("Exec did not return within %v", d)
		return job.Outcome{}
	}
}

func TestExecExitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 2, 3, 42, 100, 125, 126, 127, 128, 200, 254, 255} {
		t.Run(fmt.Sprintf("a job that exits %d reports %d", code, code), func(t *testing.T) {
			t.Parallel()
			out := Exec(context.Background(), shellCmd(fmt.Sprintf("exit %d", code)), ExecOptions{})
			if out.ExitCode != code || out.Signal != "" || out.Err != nil || out.Canceled {
				t.Errorf("got %+v", out)
			}
		})
	}
}

func TestExecStartFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noX := write("no-x", "#!/bin/sh\necho hi\n", 0o644)
	badFormat := write("bad-format", "\x00\x01\x02 not a program\n", 0o755)
	badInterp := write("bad-interp", "#!/nonexistent/interpreter\n", 0o755)

	tests := []struct {
		name    string
		cmd     shell.Command
		dir     string
		shell   []string
		code    int
		is      error
		message string
	}{
		{"a program not on PATH exits 127", argvCmd("futures-no-such-command"), "", nil, 127, ErrNotFound,
			"futures: futures-no-such-command: command not found\n"},
		{"a path that does not exist exits 127", argvCmd(filepath.Join(dir, "missing")), "", nil, 127, ErrNotFound,
			"command not found"},
		{"a file without the execute bit exits 126", argvCmd(noX), "", nil, 126, ErrNotExecutable, "permission denied"},
		{"a file in no executable format exits 126", argvCmd(badFormat), "", nil, 126, ErrNotExecutable, "exec format error"},
		{"a directory exits 126", argvCmd(dir), "", nil, 126, ErrNotExecutable, "cannot execute"},
		{"a script whose interpreter is missing exits 126", argvCmd(badInterp), "", nil, 126, ErrNotExecutable, "bad interpreter"},
		{"a relative path runs in the job's directory", argvCmd("./no-x"), dir, nil, 126, ErrNotExecutable, "permission denied"},
		{"a missing working directory is named", argvCmd("true"), filepath.Join(dir, "nowhere"), nil, 126, syscall.ENOENT,
			"cannot change to directory " + filepath.Join(dir, "nowhere")},
		{"a missing shell exits 127", shell.Command{Line: "echo hi", Shell: true}, "", []string{"futures-no-such-shell", "-c"}, 127, ErrNotFound, "command not found"},
		{"an empty command exits 127", shell.Command{}, "", nil, 127, ErrNotFound, "empty command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr execOut
			out := Exec(context.Background(), tt.cmd, ExecOptions{Dir: tt.dir, Shell: tt.shell, Stderr: &stderr})
			if out.ExitCode != tt.code {
				t.Errorf("exit code %d, want %d (%v)", out.ExitCode, tt.code, out.Err)
			}
			if !errors.Is(out.Err, tt.is) {
				t.Errorf("error %v, want one wrapping %v", out.Err, tt.is)
			}
			if !strings.Contains(stderr.String(), tt.message) || !strings.HasPrefix(stderr.String(), "futures: ") {
				t.Errorf("stderr %q, want a message with %q", stderr.String(), tt.message)
			}
		})
	}
}

func TestExecSignals(t *testing.T) {
	tests := []struct {
		line   string
		signal string
		code   int
	}{
		{"kill -KILL $$", "SIGKILL", 128 + 9},
		{"kill -TERM $$", "SIGTERM", 128 + 15},
		{"ulimit -c 0; kill -SEGV $$", "SIGSEGV", 128 + 11},
	}
	for _, tt := range tests {
		t.Run("a job killed by "+tt.signal+" reports it as a shell does", func(t *testing.T) {
			t.Parallel()
			out := Exec(context.Background(), shellCmd(tt.line), ExecOptions{})
			if out.Signal != tt.signal || out.ExitCode != tt.code || out.Err != nil || out.Canceled {
				t.Errorf("got %+v, want signal %s and exit code %d", out, tt.signal, tt.code)
			}
		})
	}
}

func TestExecRusage(t *testing.T) {
	forEachWait(t, func(t *testing.T) {
		for _, inline := range []bool{false, true} {
			var w execOut
			out := Exec(context.Background(),
				shellCmd(`i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done`), ExecOptions{Stdout: &w, Inline: inline})
			if out.ExitCode != 0 || out.Err != nil || w.String() != "done\n" {
				t.Fatalf("inline %v: got %+v, output %q", inline, out, w.String())
			}
			if out.User+out.Sys <= 0 || out.MaxRSSKB <= 0 || out.Duration <= 0 || out.Start.IsZero() {
				t.Errorf("inline %v: a busy job reports user %v, sys %v, max RSS %d KiB, duration %v, start %v",
					inline, out.User, out.Sys, out.MaxRSSKB, out.Duration, out.Start)
			}
		}
	})
}

func TestExecStdin(t *testing.T) {
	t.Run("stdin is /dev/null: cat ends at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var stdout execOut
		out := Exec(ctx, argvCmd("cat"), ExecOptions{Stdout: &stdout, Grace: time.Second})
		if out.ExitCode != 0 || out.Canceled || out.Err != nil || stdout.String() != "" {
			t.Errorf("got %+v, stdout %q", out, stdout.String())
		}
	})
	t.Run("a reader is fed to stdin", func(t *testing.T) {
		var stdout execOut
		out := Exec(context.Background(), argvCmd("cat"),
			ExecOptions{Stdin: strings.NewReader("some input\n"), Stdout: &stdout})
		if out.ExitCode != 0 || out.Err != nil || stdout.String() != "some input\n" {
			t.Errorf("got %+v, stdout %q", out, stdout.String())
		}
	})
	t.Run("a reader the job does not read does not block", func(t *testing.T) {
		out := Exec(context.Background(), argvCmd("true"),
			ExecOptions{Stdin: bytes.NewReader(make([]byte, 1<<20))})
		if out.ExitCode != 0 || out.Err != nil {
			t.Errorf("got %+v", out)
		}
	})
}

func TestExecOwnProcessGroup(t *testing.T) {
	var stdout execOut
	out := Exec(context.Background(), argvCmd("cat", "/proc/self/stat"), ExecOptions{Stdout: &stdout})
	if out.ExitCode != 0 {
		t.Fatalf("got %+v", out)
	}
	s := stdout.String()
	pid := strings.Fields(s)[0]
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // state ppid pgrp session …
	if pgrp := rest[2]; pgrp != pid {
		t.Errorf("the job's pgid is %s, want its pid %s", pgrp, pid)
	}
	if ours := strconv.Itoa(syscall.Getpgrp()); rest[2] == ours {
		t.Errorf("the job is in the runner's process group %s", ours)
	}
}

func TestExecEnvironment(t *testing.T) {
	t.Setenv("FUTURES_SEQ", "stale")
	t.Run("env entries arrive and replace the runner's", func(t *testing.T) {
		var stdout execOut
		out := Exec(context.Background(), shellCmd(`echo "$FUTURES_SEQ $FUTURES_SLOT $FUTURES_WORKER"`),
			ExecOptions{Env: []string{"FUTURES_SEQ=7", "FUTURES_SLOT=2", "FUTURES_WORKER=worker_1"}, Stdout: &stdout})
		if got := stdout.String(); out.ExitCode != 0 || got != "7 2 worker_1\n" {
			t.Errorf("got %q (%+v)", got, out)
		}
	})
	t.Run("the job runs in Dir, with PWD set to it", func(t *testing.T) {
		dir, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var stdout execOut
		out := Exec(context.Background(), shellCmd(`pwd; echo "$PWD"`), ExecOptions{Dir: dir, Stdout: &stdout})
		if got := stdout.String(); out.ExitCode != 0 || got != dir+"\n"+dir+"\n" {
			t.Errorf("got %q (%+v)", got, out)
		}
	})
}

func TestExecOutputs(t *testing.T) {
	t.Run("the same writer for stdout and stderr keeps their order", func(t *testing.T) {
		var w execOut
		out := Exec(context.Background(), shellCmd(`echo out; echo err >&2; echo out2`),
			ExecOptions{Stdout: &w, Stderr: &w})
		if got := w.String(); out.Err != nil || got != "out\nerr\nout2\n" {
			t.Errorf("got %q (%+v)", got, out)
		}
	})
	t.Run("separate writers get their own stream", func(t *testing.T) {
		var stdout, stderr execOut
		Exec(context.Background(), shellCmd(`echo out; echo err >&2`),
			ExecOptions{Stdout: &stdout, Stderr: &stderr})
		if stdout.String() != "out\n" || stderr.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	})
	t.Run("a file is handed to the job directly", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		Exec(context.Background(), shellCmd(`echo straight through`), ExecOptions{Stdout: f})
		if b, _ := os.ReadFile(f.Name()); string(b) != "straight through\n" {
			t.Errorf("file holds %q", b)
		}
	})
	t.Run("a spool receives a large output whole", func(t *testing.T) {
		s := output.NewSpool(t.TempDir(), output.NewBudget(1<<20))
		defer s.Close()
		out := Exec(context.Background(), argvCmd("head", "-c", "3000000", "/dev/zero"), ExecOptions{Stdout: s})
		if out.Err != nil || s.Len() != 3000000 {
			t.Errorf("spooled %d bytes (%+v)", s.Len(), out)
		}
	})
}

// execFailWriter accepts n writes, then fails.
type execFailWriter struct {
	mu     sync.Mutex
	n      int
	writes int
}

var errExecDiskFull = errors.New("disk full")

func (w *execFailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.writes > w.n {
		return 0, errExecDiskFull
	}
	return len(p), nil
}

func TestExecWriteErrorIsReported(t *testing.T) {
	w := &execFailWriter{n: 1}
	// Far more than a pipe holds: the job would block if the pipe were no
	// longer drained after the error.
	out := Exec(context.Background(), argvCmd("head", "-c", "5000000", "/dev/zero"), ExecOptions{Stdout: w})
	if out.ExitCode != 0 {
		t.Errorf("the job exited %d: the pipe was not drained", out.ExitCode)
	}
	if !errors.Is(out.Err, errExecDiskFull) || !strings.Contains(out.Err.Error(), "writing output") {
		t.Errorf("error %v, want a writing output error wrapping %v", out.Err, errExecDiskFull)
	}
}

func TestExecCancel(t *testing.T) {
	t.Run("cancel sends TERM to the group and nothing is left", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout execOut
		ch := execAsync(ctx, shellCmd(`sleep 60 & echo $!; sleep 60 & echo $!; wait`),
			ExecOptions{Stdout: &stdout, Grace: 30 * time.Second})
		execEventually(t, patience, "the job's grandchildren", func() bool {
			return len(execPids(t, stdout.String())) == 2
		})
		pids := execPids(t, stdout.String())
		cancel()
		out := execResult(t, ch, patience)
		if !out.Canceled || out.Signal != "SIGTERM" || out.ExitCode != 143 {
			t.Errorf("got %+v, want a job canceled by SIGTERM", out)
		}
		for _, pid := range pids {
			execEventually(t, patience, fmt.Sprintf("grandchild %d to end", pid), func() bool { return !procAlive(pid) })
		}
	})
	t.Run("TERM reaches the grandchildren, not only the main process", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout execOut
		ch := execAsync(ctx, shellCmd(`trap 'wait; exit 7' TERM
(trap 'echo subshell got TERM; exit 0' TERM; echo ready; sleep 60 & wait) &
wait`), ExecOptions{Stdout: &stdout, Grace: 30 * time.Second})
		execEventually(t, patience, "the job to be ready", func() bool {
			return strings.Contains(stdout.String(), "ready")
		})
		cancel()
		out := execResult(t, ch, patience)
		if !out.Canceled || out.ExitCode != 7 || out.Signal != "" {
			t.Errorf("got %+v, want a canceled job that exited 7 from its trap", out)
		}
		if !strings.Contains(stdout.String(), "subshell got TERM") {
			t.Errorf("output %q: the grandchild got no TERM", stdout.String())
		}
	})
	t.Run("a job that ignores TERM is KILLed after the grace period", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout execOut
		const grace = 300 * time.Millisecond
		ch := execAsync(ctx, shellCmd(`trap '' TERM; echo ready; sleep 60`),
			ExecOptions{Stdout: &stdout, Grace: grace})
		execEventually(t, patience, "the job to be ready", func() bool {
			return strings.Contains(stdout.String(), "ready")
		})
		canceled := time.Now()
		cancel()
		out := execResult(t, ch, patience)
		if !out.Canceled || out.Signal != "SIGKILL" || out.ExitCode != 137 {
			t.Errorf("got %+v, want a job canceled by SIGKILL", out)
		}
		if d := time.Since(canceled); d < grace {
			t.Errorf("killed %v after cancel, before the grace period of %v", d, grace)
		}
	})
	t.Run("closing Kill kills at once", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		kill := make(chan struct{})
		var stdout execOut
		ch := execAsync(ctx, shellCmd(`trap '' TERM; echo ready; sleep 60`),
			ExecOptions{Stdout: &stdout, Grace: time.Hour, Kill: kill})
		execEventually(t, patience, "the job to be ready", func() bool {
			return strings.Contains(stdout.String(), "ready")
		})
		cancel()
		close(kill)
		out := execResult(t, ch, patience)
		if !out.Canceled || out.Signal != "SIGKILL" {
			t.Errorf("got %+v, want a job canceled by SIGKILL", out)
		}
	})
	t.Run("a Kill closed before ctx ends skips TERM", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		kill := make(chan struct{})
		var stdout execOut
		ch := execAsync(ctx, shellCmd(`trap 'echo got TERM; exit 0' TERM; echo ready; sleep 60 & wait`),
			ExecOptions{Stdout: &stdout, Grace: time.Hour, Kill: kill})
		execEventually(t, patience, "the job to be ready", func() bool {
			return strings.Contains(stdout.String(), "ready")
		})
		close(kill)
		cancel()
		out := execResult(t, ch, patience)
		if !out.Canceled || out.Signal != "SIGKILL" || strings.Contains(stdout.String(), "got TERM") {
			t.Errorf("got %+v, output %q; want a SIGKILL and no TERM", out, stdout.String())
		}
	})
	t.Run("a job whose ctx has ended does not start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out := Exec(ctx, shellCmd(`echo should not run`), ExecOptions{})
		if !out.Canceled || out.ExitCode != -1 || !errors.Is(out.Err, context.Canceled) {
			t.Errorf("got %+v", out)
		}
	})
	t.Run("a job timeout ends with the job, not before", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out := Exec(ctx, argvCmd("true"), ExecOptions{Grace: time.Second})
		if out.Canceled || out.ExitCode != 0 {
			t.Errorf("got %+v", out)
		}
	})
}

func TestExecBackgroundGrandchild(t *testing.T) {
	t.Run("a grandchild holding stdout does not hang Exec and is killed", func(t *testing.T) {
		var stdout execOut
		begin := time.Now()
		// The grandchild outlasts patience. Exec waiting for it would take
		// that long; waiting drainDelay for its pipe would be reported in
		// out.Err.
		out := Exec(context.Background(), shellCmd(`sleep 120 & echo $!`), ExecOptions{Stdout: &stdout})
		if d := time.Since(begin); d >= patience {
			t.Errorf("Exec took %v: it waited for the grandchild", d)
		}
		if out.ExitCode != 0 || out.Err != nil {
			t.Errorf("got %+v", out)
		}
		pids := execPids(t, stdout.String())
		if len(pids) != 1 {
			t.Fatalf("output %q", stdout.String())
		}
		execEventually(t, patience, "the grandchild to end", func() bool { return !procAlive(pids[0]) })
	})
	t.Run("a grandchild detached with setsid survives and is reported holding stdout", func(t *testing.T) {
		if _, err := exec.LookPath("setsid"); err != nil {
			t.Skip("no setsid")
		}
		var stdout execOut
		begin := time.Now()
		out := Exec(context.Background(), shellCmd(`setsid sleep 120 & echo $!
# wait until it has its own session, so the group kill misses it
while [ "$(cut -d' ' -f6 /proc/$!/stat)" != $! ]; do sleep 0.01; done
echo more`), ExecOptions{Stdout: &stdout})
		d := time.Since(begin)
		pids := execPids(t, stdout.String())
		for _, pid := range pids {
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		}
		if len(pids) != 1 || !strings.HasSuffix(stdout.String(), "more\n") {
			t.Fatalf("output %q", stdout.String())
		}
		if !procAlive(pids[0]) {
			t.Errorf("the detached process %d was killed", pids[0])
		}
		if d >= patience {
			t.Errorf("Exec took %v: it waited for the detached process", d)
		}
		if out.ExitCode != 0 || !errors.Is(out.Err, exec.ErrWaitDelay) {
			t.Errorf("got %+v, want an error wrapping exec.ErrWaitDelay", out)
		}
	})
}

func TestExecLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr execOut
		ch := execAsync(ctx, shellCmd(`echo ready; echo err >&2; sleep 60`),
			ExecOptions{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader("x"), Grace: time.Second})
		execEventually(t, patience, "the job to be ready", func() bool {
			return strings.Contains(stdout.String(), "ready")
		})
		cancel()
		execResult(t, ch, patience)
	}
	execEventually(t, patience, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func BenchmarkExec(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("true, output discarded", func(b *testing.B) {
		for b.Loop() {
			if out := Exec(ctx, argvCmd("true"), ExecOptions{Grace: time.Second}); out.ExitCode != 0 {
				b.Fatal(out)
			}
		}
	})
	b.Run("true, output spooled", func(b *testing.B) {
		budget := output.NewBudget(16 << 20)
		for b.Loop() {
			stdout, stderr := output.NewSpool("", budget), output.NewSpool("", budget)
			out := Exec(ctx, argvCmd("true"), ExecOptions{Stdout: stdout, Stderr: stderr, Env: []string{"FUTURES_SEQ=1"}})
			if out.ExitCode != 0 {
				b.Fatal(out)
			}
			stdout.Close()
			stderr.Close()
		}
	})
	b.Run("sh -c true", func(b *testing.B) {
		for b.Loop() {
			if out := Exec(ctx, shellCmd("true"), ExecOptions{}); out.ExitCode != 0 {
				b.Fatal(out)
			}
		}
	})
}

func TestExecDrainDeadline(t *testing.T) {
	for _, tt := range []struct {
		name     string
		closeW   bool
		wantHeld bool
	}{
		{"output still buffered at the deadline is delivered, and a pipe held open is reported", false, true},
		{"output still buffered at the deadline is delivered, and a closed pipe is not reported", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			defer pw.Close()
			want := strings.Repeat("buffered output\n", 2000) // 32 000 bytes: fits the pipe
			if _, err := pw.WriteString(want); err != nil {
				t.Fatal(err)
			}
			if tt.closeW {
				pw.Close()
			}
			var w execOut
			s := &stream{r: pr, w: &w}
			// A deadline already passed: a writer slow to take the output
			// made the reader late.
			if err := pr.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			s.copy()
			if w.String() != want {
				t.Errorf("delivered %d bytes, want %d", len(w.String()), len(want))
			}
			if s.held != tt.wantHeld {
				t.Errorf("held = %v, want %v", s.held, tt.wantHeld)
			}
		})
	}
}

// TestExecStartedComesBeforeOutput checks that o.Started is called before
// any of the job's output reaches o.Stdout: a worker sends the Started
// frame from it, and the protocol has it come before the job's first
// Stdout frame. The job prints at once; Started waits for it to have
// exited and yields, so that a reader started too early has every chance
// to deliver its output first.
func TestExecStartedComesBeforeOutput(t *testing.T) {
	for _, tt := range []struct {
		name   string
		inline bool
		stdin  bool
	}{
		{"goroutine readers", false, false},
		{"inline", true, false},
		{"inline with a stdin to feed (goroutine readers)", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 100 {
				var w execOut
				o := ExecOptions{Stdout: &w, Stderr: &w, Inline: tt.inline}
				if tt.stdin {
					o.Stdin = strings.NewReader("x")
				}
				var before string
				started := false
				o.Started = func(pid int) {
					started = true
					waitZombie(t, pid)
					for range 1000 {
						runtime.Gosched()
					}
					before = w.String()
				}
				out := Exec(context.Background(), argvCmd("echo", "hi"), o)
				if out.Err != nil || out.ExitCode != 0 || w.String() != "hi\n" || !started {
					t.Fatalf("run %d: %+v, output %q, started %v", i, out, w.String(), started)
				}
				if before != "" {
					t.Fatalf("run %d: output %q was delivered before Started was called", i, before)
				}
			}
		})
	}
}

// panicWriter panics at its first write.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("the writer broke") }

func TestAWriterThatPanicsIsAWriteError(t *testing.T) {
	// Start delivers output on goroutines of its own, where a panic ended
	// the process: a writer that panics fails as one that returns an
	// error does, its pipe drained, the panic and its stack in the error.
	for _, start := range []bool{false, true} {
		var out job.Outcome
		c, o := argvCmd("head", "-c", "5000000", "/dev/zero"), ExecOptions{Stdout: panicWriter{}}
		if start {
			ch := make(chan job.Outcome, 1)
			Start(context.Background(), c, o, func(out job.Outcome) { ch <- out })
			out = execResult(t, ch, patience)
		} else {
			out = Exec(context.Background(), c, o)
		}
		if out.ExitCode != 0 {
			t.Errorf("start %v: the job exited %d: the pipe was not drained", start, out.ExitCode)
		}
		if msg := fmt.Sprint(out.Err); !strings.Contains(msg, "writing output: panic: the writer broke") || !strings.Contains(msg, "panicWriter.Write") {
			t.Errorf("start %v: error %q, want a writing output error with the panic and its stack", start, msg)
		}
	}
}
