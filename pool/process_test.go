package pool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/pgroup"
	"github.com/futures-cli/futures/pool/shquote"
)

// testWorkerEnv, set to 1, makes the test binary a worker process: the
// pool tests launch it as their worker.
const testWorkerEnv = "FUTURES_POOL_TEST_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testWorkerEnv); mode != "" {
		exec := testExec
		if mode == "noop" {
			exec = noopExec
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		// As futures worker does (cmd/worker.go): a stdin whose Read a
		// Close ends, for the worker to stop while its runner holds it open.
		in := os.Stdin
		if syscall.SetNonblock(0, true) == nil {
			in = os.NewFile(0, "stdin")
		}
		err := ServeWorker(ctx, in, os.Stdout, WorkerOptions{Exec: exec})
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatedWriter passes writes on to w once open is closed: the job's output
// waits for its Started frame, which the protocol has go first.
type gatedWriter struct {
	w    io.Writer
	open <-chan struct{}
}

func (g gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.w.Write(p)
}

// testExec is a worker's Exec for these tests, a small proc.Exec: the job
// in a process group of its own, TERM or KILL to the group when ctx ends,
// what is left of the group KILLed when it ends. Its output is passed on
// only after jio.Started is called (os/exec copies it from the moment the
// process starts: on a loaded machine, an echo could otherwise be sent
// before the Started frame).
func testExec(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
	argv := spec.Argv
	if spec.Shell {
		sh := spec.ShellCmd
		if len(sh) == 0 {
			sh = []string{"/bin/sh", "-c"}
		}
		argv = append(slices.Clone(sh), spec.Line)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	env := spec.Environ
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clone(env), spec.Env...) // the last of a key wins
	cmd.Dir = spec.Dir
	started := make(chan struct{})
	if jio.Stdout != nil {
		cmd.Stdout = gatedWriter{jio.Stdout, started}
	}
	if jio.Stderr != nil {
		cmd.Stderr = gatedWriter{jio.Stderr, started}
	}
	cmd.SysProcAttr = pgroup.Attr(syscall.SIGKILL)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return job.Outcome{ExitCode: 127, Err: err, Start: start}
	}
	pgid := cmd.Process.Pid
	if jio.Started != nil {
		jio.Started(pgid)
	}
	close(started)
	var canceled bool
	exited := make(chan struct{})
	stopped := make(chan struct{}) // closed when the AfterFunc is over
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		canceled = true
		sig := syscall.SIGTERM
		if spec.Grace <= 0 {
			sig = syscall.SIGKILL
		}
		_ = syscall.Kill(-pgid, sig)
		select {
		case <-jio.Kill:
		case <-time.After(spec.Grace):
		case <-exited:
			return
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	err := cmd.Wait()
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	close(exited)
	if !stop() {
		<-stopped // it has started: wait for it to end (it sets canceled)
	}
	out := job.Outcome{Start: start, Duration: time.Since(start), Canceled: canceled}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		out.ExitCode = ws.ExitStatus()
		if ws.Signaled() {
			out.ExitCode = 128 + int(ws.Signal())
			out.Signal = ws.Signal().String()
		}
	case err != nil:
		out.ExitCode, out.Err = -1, err
	}
	return out
}

// noopExec is a worker's Exec that starts nothing: its jobs cost only the
// protocol. The pid it reports is the worker's own (a group of its own).
func noopExec(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
	if jio.Started != nil {
		jio.Started(os.Getpid())
	}
	return job.Outcome{Start: time.Now()}
}

// testLauncher starts this test binary as a worker.
func testLauncher(t testing.TB) *LocalLauncher {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The race detector sleeps 1 s at exit unless told not to.
	return &LocalLauncher{Command: []string{exe}, Env: append(os.Environ(), testWorkerEnv+"=1", "GORACE=atexit_sleep_ms=0")}
}

// newTestProcessPool returns a pool of test workers, shut down (with Wait)
// when the test ends.
func newTestProcessPool(t *testing.T, opts ProcessOptions) *ProcessPool[string] {
	t.Helper()
	if opts.Launcher == nil {
		opts.Launcher = testLauncher(t)
	}
	p := NewProcessPool[string](opts)
	t.Cleanup(func() {
		if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true, CancelFutures: true}); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

// shellJob is a task that runs line under the shell on its worker and
// returns its stdout, or an error for a non-zero exit.
func shellJob(line string) Task[string] {
	return func(ctx context.Context) (string, error) {
		var out, errb bytes.Buffer
		o, err := RunJob(ctx, job.Spec{Line: line, Shell: true, Grace: time.Second}, &out, &errb, nil)
		out.Write(errb.Bytes())
		if err != nil {
			return "", err
		}
		if o.ExitCode != 0 || o.Err != nil {
			return out.String(), fmt.Errorf("%q: exit %d %s %s", line, o.ExitCode, o.Signal, errText(o.Err))
		}
		return out.String(), nil
	}
}

func psubmit(t *testing.T, p *ProcessPool[string], task Task[string]) *future.Future[string] {
	t.Helper()
	f, err := p.Submit(context.Background(), task)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return f
}

// header returns a frame header.
func header(size uint32, typ wire.FrameType) []byte {
	h := make([]byte, 5)
	binary.BigEndian.PutUint32(h, size)
	h[4] = byte(typ)
	return h
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// gone reports whether process pid has ended: it does not exist, or is a
// zombie that its (new) parent has not reaped yet.
func gone(pid int) bool {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	// pid (comm) STATE …; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func TestProcessPoolRunsJobsInWorkerProcesses(t *testing.T) {
	noLeak(t)
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 2, NamePrefix: "proc"})
	var fs []*future.Future[string]
	for i := range 6 {
		task := func(ctx context.Context) (string, error) {
			out, err := shellJob(fmt.Sprintf("echo %d $PPID; echo to-stderr >&2", i))(ctx)
			return WorkerName(ctx) + " " + out, err
		}
		fs = append(fs, psubmit(t, p, task))
	}
	ppids := map[string]bool{}
	for i, f := range fs {
		v, err := result(t, f)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		f := strings.Fields(v)
		if len(f) != 4 || f[1] != strconv.Itoa(i) || f[3] != "to-stderr" || (f[0] != "proc_0" && f[0] != "proc_1") {
			t.Fatalf("job %d: %q", i, v)
		}
		if f[2] == strconv.Itoa(os.Getpid()) {
			t.Fatalf("job %d ran as a child of the test, not of a worker", i)
		}
		ppids[f[2]] = true
	}
	if len(ppids) > 2 {
		t.Fatalf("jobs ran in %d worker processes, want at most 2", len(ppids))
	}
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	for ppid := range ppids {
		pid, _ := strconv.Atoi(ppid)
		if !gone(pid) {
			t.Errorf("worker %d still exists after Shutdown with Wait", pid)
		}
	}
}

func TestTheInitializersStateIsSeenByTheJobsOfItsWorker(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 2,
		Initializer: "cd " + shquote.Quote(dir) + " && export TOKEN=$(cat token) GREETING=hi; export INIT_PID=$$"})
	var fs []*future.Future[string]
	for range 4 {
		fs = append(fs, psubmit(t, p, shellJob(`echo "$GREETING $TOKEN $(pwd) $FUTURES_WORKER $FUTURES_SLOT"`)))
	}
	for _, f := range fs {
		v, err := result(t, f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v, "hi s3cret "+dir+" worker_") {
			t.Fatalf("a job printed %q", v)
		}
	}
}

func TestAFailingInitializerBreaksTheProcessPool(t *testing.T) {
	noLeak(t)
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Initializer: "echo cannot fetch the token >&2; exit 3"})
	f1 := psubmit(t, p, shellJob("echo never"))
	f2 := psubmit(t, p, shellJob("echo never"))
	for _, f := range []*future.Future[string]{f1, f2} {
		_, err := result(t, f)
		if !errors.Is(err, ErrBrokenProcessPool) || !errors.Is(err, ErrBroken) {
			t.Fatalf("err = %v, want ErrBrokenProcessPool", err)
		}
		for _, w := range []string{"worker_0", "initializer", "exit status 3", "cannot fetch the token"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("err = %q, want it to say %q", err, w)
			}
		}
	}
	if _, err := p.Submit(context.Background(), shellJob("true")); !errors.Is(err, ErrBrokenProcessPool) {
		t.Fatalf("Submit on a broken pool: %v", err)
	}
}

func TestMaxTasksPerChildRecyclesTheWorkerWithAFreshInitializer(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, MaxTasksPerChild: 2, Initializer: "export INIT_PID=$$"})
	var pids []string
	for range 5 {
		v, err := result(t, psubmit(t, p, shellJob(`echo $PPID $INIT_PID`)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, v)
	}
	distinct := slices.Compact(slices.Clone(pids))
	if len(distinct) != 3 || pids[0] != pids[1] || pids[2] != pids[3] {
		t.Fatalf("worker and initializer pids %q: want 3 workers, 2 jobs each but the last", pids)
	}
	for _, v := range pids {
		f := strings.Fields(v)
		if len(f) != 2 || f[0] == f[1] {
			t.Fatalf("%q: want a worker pid and its own initializer's pid", v)
		}
	}
}

func TestAWorkerKilledMidJobBreaksThePoolAndLeavesNoJobBehind(t *testing.T) {
	noLeak(t)
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1})
	// The job: its shell, a child in its group, and their pids.
	pids := make(chan []int, 1)
	running := psubmit(t, p, func(ctx context.Context) (string, error) {
		pw := &pidWriter{ch: pids}
		_, err := RunJob(ctx, job.Spec{Line: "sleep 30 & echo $$ $! $PPID; wait", Shell: true}, pw, nil, nil)
		return "", err
	})
	pending := []*future.Future[string]{psubmit(t, p, shellJob("true")), psubmit(t, p, shellJob("true"))}
	var got []int
	within(t, "the job to start", func() { got = <-pids })
	shell, child, worker := got[0], got[1], got[2]
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i, f := range append([]*future.Future[string]{running}, pending...) {
		_, err := result(t, f)
		if !errors.Is(err, ErrBrokenProcessPool) || !errors.Is(err, ErrBroken) {
			t.Fatalf("future %d: %v, want ErrBrokenProcessPool", i, err)
		}
		if !strings.Contains(err.Error(), "worker_0 (pid "+strconv.Itoa(worker)+") died") || !strings.Contains(err.Error(), "killed") {
			t.Errorf("future %d: %q, want it to name the worker and say it was killed", i, err)
		}
	}
	if _, err := p.Submit(context.Background(), shellJob("true")); !errors.Is(err, ErrBrokenProcessPool) {
		t.Fatalf("Submit on a broken pool: %v", err)
	}
	for _, pid := range []int{shell, child, worker} {
		waitFor(t, fmt.Sprintf("process %d to be gone", pid), func() bool { return gone(pid) })
	}
}

// pidWriter parses the first line written to it as pids.
type pidWriter struct {
	ch   chan []int
	buf  []byte
	sent bool
}

func (w *pidWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if line, _, ok := bytes.Cut(w.buf, []byte("\n")); ok && !w.sent {
		var pids []int
		for _, f := range strings.Fields(string(line)) {
			n, _ := strconv.Atoi(f)
			pids = append(pids, n)
		}
		w.sent = true
		w.ch <- pids
	}
	return len(p), nil
}

func TestShutdownWithCancelFuturesOfAProcessPool(t *testing.T) {
	noLeak(t)
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1})
	flag := filepath.Join(t.TempDir(), "go")
	pids := make(chan []int, 1)
	running := psubmit(t, p, func(ctx context.Context) (string, error) {
		o, err := RunJob(ctx, job.Spec{Line: "echo $PPID; while [ ! -e " + shquote.Quote(flag) + " ]; do sleep 0.01; done; echo done", Shell: true}, &pidWriter{ch: pids}, nil, nil)
		if err == nil && o.ExitCode != 0 {
			err = fmt.Errorf("exit %d", o.ExitCode)
		}
		return "ran", err
	})
	var pending []*future.Future[string]
	for range 3 {
		pending = append(pending, psubmit(t, p, shellJob("true")))
	}
	var worker []int
	within(t, "the job to start", func() { worker = <-pids })
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{CancelFutures: true}); err != nil {
		t.Fatal(err)
	}
	for i, f := range pending {
		if _, err := result(t, f); !errors.Is(err, future.ErrCancelled) {
			t.Fatalf("pending future %d: %v, want ErrCancelled", i, err)
		}
	}
	if running.Done() {
		t.Fatal("the running future is done before its job")
	}
	if _, err := p.Submit(context.Background(), shellJob("true")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Submit after Shutdown: %v", err)
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := result(t, running); v != "ran" || err != nil {
		t.Fatalf("running future: %q, %v", v, err)
	}
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if !gone(worker[0]) {
		t.Fatalf("worker %d still exists after Shutdown with Wait", worker[0])
	}
}

func TestCancellingATaskStopsItsJobAndTheWorkerGoesOn(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pids := make(chan []int, 1)
	kill := make(chan struct{})
	f, err := p.Submit(ctx, func(ctx context.Context) (string, error) {
		// The shell ignores TERM: only the Kill frame stops it.
		o, err := RunJob(ctx, job.Spec{Line: "trap '' TERM; echo $$; while :; do sleep 0.01; done", Shell: true, Grace: time.Minute}, &pidWriter{ch: pids}, nil, kill)
		return fmt.Sprintf("%d %s %v", o.ExitCode, o.Signal, o.Canceled), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var job []int
	within(t, "the job to start", func() { job = <-pids })
	cancel()
	close(kill)
	v, err := result(t, f)
	if err != nil || v != "137 killed true" {
		t.Fatalf("cancelled job: %q, %v; want killed and Canceled", v, err)
	}
	waitFor(t, "the job to be gone", func() bool { return gone(job[0]) })
	if v, err := result(t, psubmit(t, p, shellJob("echo again"))); v != "again\n" || err != nil {
		t.Fatalf("the next job: %q, %v", v, err)
	}
}

func TestRunJobOutsideAProcessPoolTaskFails(t *testing.T) {
	_, err := RunJob(context.Background(), job.Spec{Line: "true"}, nil, nil, nil)
	if err == nil || errors.Is(err, ErrBroken) {
		t.Fatalf("err = %v", err)
	}
}

func TestRunJobWithAnEndedContextStartsNothing(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1})
	v, err := result(t, psubmit(t, p, func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		o, err := RunJob(ctx, job.Spec{Line: "echo ran", Shell: true}, nil, nil, nil)
		return fmt.Sprint(o.ExitCode, o.Canceled), err
	}))
	if v != "-1 true" || err != nil {
		t.Fatalf("%q, %v", v, err)
	}
}

// fakeLauncher launches in-process workers that run serveFn.
type fakeLauncher struct {
	serveFn func(in io.Reader, out io.Writer)
	wg      sync.WaitGroup
}

func (l *fakeLauncher) Launch(ctx context.Context, name string) (Process, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	fp := &fakeProcess{in: inW, out: outR, done: make(chan struct{})}
	l.wg.Go(func() {
		defer close(fp.done)
		l.serveFn(inR, outW)
		outW.Close()
		inR.Close()
	})
	fp.kill = func() { inR.CloseWithError(errors.New("killed")); outW.CloseWithError(io.EOF) }
	return fp, nil
}

type fakeProcess struct {
	in   *io.PipeWriter
	out  *io.PipeReader
	done chan struct{}
	kill func()
}

func (p *fakeProcess) Stdin() io.WriteCloser { return p.in }
func (p *fakeProcess) Stdout() io.Reader     { return p.out }
func (p *fakeProcess) Wait() error           { <-p.done; return nil }
func (p *fakeProcess) Kill() error           { p.kill(); return nil }
func (p *fakeProcess) KillJob(int)           {}
func (p *fakeProcess) String() string        { return "fake" }

func TestAWorkerOfAnotherProtocolVersionBreaksThePool(t *testing.T) {
	l := &fakeLauncher{serveFn: func(in io.Reader, out io.Writer) {
		h := wire.LocalHello("worker")
		h.Protocol = wire.ProtocolVersion + 1
		_ = wire.NewWriter(out).SendJSON(wire.FrameHello, h)
		_, _ = io.Copy(io.Discard, in)
	}}
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: l})
	_, err := result(t, psubmit(t, p, shellJob("true")))
	if !errors.Is(err, ErrBrokenProcessPool) || !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "version mismatch") {
		t.Fatalf("err = %v, want a broken pool for a version mismatch", err)
	}
	l.wg.Wait()
}

func TestAWorkerThatPrintsGarbageBreaksThePoolWithAClearError(t *testing.T) {
	l := &fakeLauncher{serveFn: func(in io.Reader, out io.Writer) {
		_, _ = io.WriteString(out, "Welcome to the cluster!\n")
		_, _ = io.Copy(io.Discard, in)
	}}
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: l})
	_, err := result(t, psubmit(t, p, shellJob("true")))
	if !errors.Is(err, ErrBrokenProcessPool) || !strings.Contains(err.Error(), `"Welcome to the cluster!\n"`) {
		t.Fatalf("err = %v", err)
	}
	l.wg.Wait()
}

func TestAWorkerThatGarblesAJobBreaksThePool(t *testing.T) {
	l := &fakeLauncher{serveFn: func(in io.Reader, out io.Writer) {
		fr, fw := wire.NewReader(in), wire.NewWriter(out)
		_ = fw.SendJSON(wire.FrameHello, wire.LocalHello("worker"))
		_, _, _ = fr.Next() // Hello
		_, _, _ = fr.Next() // Init
		_ = fw.SendJSON(wire.FrameReady, wire.ReadyFrame{})
		_, _, _ = fr.Next() // Job
		_ = fw.Send(wire.FrameStdout, []byte("partial"))
		_, _ = out.Write(header(100, wire.FrameOutcome)) // and then nothing
	}}
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: l})
	_, err := result(t, psubmit(t, p, shellJob("true")))
	if !errors.Is(err, ErrBrokenProcessPool) || !strings.Contains(err.Error(), "truncated Outcome frame") {
		t.Fatalf("err = %v", err)
	}
	l.wg.Wait()
}

func TestAWorkerThatCannotStartBreaksThePool(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: &LocalLauncher{Command: []string{"/bin/sh", "-c", "echo no such subcommand >&2; exit 2"}}})
	_, err := result(t, psubmit(t, p, shellJob("true")))
	if !errors.Is(err, ErrBrokenProcessPool) || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "no such subcommand") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewProcessPoolDefaults(t *testing.T) {
	p := NewProcessPool[int](ProcessOptions{})
	if p.max < 1 || p.prefix != "worker" || len(p.slots) != p.max || p.slots[0].host.Launcher == nil {
		t.Fatalf("defaults: max %d prefix %q slots %d", p.max, p.prefix, len(p.slots))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MaxWorkers -1: no panic")
		}
	}()
	NewProcessPool[int](ProcessOptions{MaxWorkers: -1})
}

func TestShutdownWithCancelFuturesStopsAWorkerStillStarting(t *testing.T) {
	noLeak(t)
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Initializer: "echo $$ > " + shquote.Quote(pidFile) + "; sleep 30"})
	f := psubmit(t, p, shellJob("echo never"))
	var pid int
	waitFor(t, "the initializer to start", func() bool {
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return pid > 0
	})
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true, CancelFutures: true}); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := result(t, f); !errors.Is(err, future.ErrCancelled) {
		t.Fatalf("the future of the task the worker was started for: %v, want ErrCancelled", err)
	}
	if _, err := p.Submit(context.Background(), shellJob("true")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Submit after Shutdown: %v, want ErrShutdown (not broken)", err)
	}
	waitFor(t, "the initializer to be gone", func() bool { return gone(pid) })
}

// BenchmarkProcessPoolJob is the cost of a job to the process pool itself,
// the worker protocol and the hand-offs on both sides, with workers whose
// jobs start nothing: with one worker, the round trip of a job; with two,
// what two cores get through.
func BenchmarkProcessPoolJob(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchmarkProcessPoolJob(b, workers) })
	}
}

func benchmarkProcessPoolJob(b *testing.B, workers int) {
	l := testLauncher(b)
	l.Env = append(l.Env, testWorkerEnv+"=noop")
	p := NewProcessPool[int](ProcessOptions{MaxWorkers: workers, Launcher: l})
	defer p.Shutdown(context.Background(), ShutdownOptions{Wait: true})
	ctx := context.Background()
	spec := job.Spec{Line: "true", Argv: []string{"true"}, Env: []string{"FUTURES_SEQ=1", "FUTURES_SLOT=1", "FUTURES_WORKER=worker_0"}, Grace: 5 * time.Second}
	task := func(ctx context.Context) (int, error) {
		o, err := RunJob(ctx, spec, nil, nil, nil)
		return o.ExitCode, err
	}
	// The workers started before the clock runs.
	var warm []*future.Future[int]
	for range workers {
		warm = append(warm, submitOrFail(b, p, task))
	}
	for _, f := range warm {
		if _, err := f.Result(ctx); err != nil {
			b.Fatal(err)
		}
	}
	fs := make([]*future.Future[int], 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		fs = append(fs, submitOrFail(b, p, task))
		if len(fs) == cap(fs) {
			for _, f := range fs {
				if _, err := f.Result(ctx); err != nil {
					b.Fatal(err)
				}
			}
			fs = fs[:0]
		}
	}
	for _, f := range fs {
		f.Result(ctx)
	}
}

func submitOrFail(b *testing.B, p *ProcessPool[int], task Task[int]) *future.Future[int] {
	f, err := p.Submit(context.Background(), task)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// breakWhileStarting submits two tasks to a pool of two workers whose
// worker_0 fails its initializer once worker_1's has started, and
// worker_1's would take 300 s (more than a test's patience): the task
// worker_1 took is pending when the pool breaks. It returns the futures and a file where worker_1's
// initializer writes its pid.
func breakWhileStarting(t *testing.T) (*ProcessPool[string], []*future.Future[string], string) {
	started := filepath.Join(t.TempDir(), "worker_1")
	init := fmt.Sprintf(`if [ "$FUTURES_WORKER" = worker_0 ]; then
	while [ ! -e %[1]s ]; do sleep 0.01; done
	echo worker_0 fails >&2; exit 1
fi
echo $$ > %[1]s.tmp && mv %[1]s.tmp %[1]s; sleep 300`, shquote.Quote(started))
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 2, Initializer: init})
	fs := []*future.Future[string]{psubmit(t, p, shellJob("echo never")), psubmit(t, p, shellJob("echo never"))}
	return p, fs, started
}

// checkBrokenByWorker0 checks that every future of fs failed with the
// error that broke the pool, worker_0's initializer's.
func checkBrokenByWorker0(t *testing.T, fs []*future.Future[string]) {
	t.Helper()
	for i, f := range fs {
		_, err := result(t, f)
		if !errors.Is(err, ErrBrokenProcessPool) || !strings.Contains(err.Error(), "worker_0 fails") {
			t.Errorf("future %d: %v (%v), want the error that broke the pool, worker_0's", i+1, f.State(), err)
		}
	}
}

// pidIn is the pid written in file, 0 if none.
func pidIn(file string) int {
	b, _ := os.ReadFile(file)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func TestABrokenPoolFailsTheTaskOfAWorkerStillStarting(t *testing.T) {
	// The task of a worker still starting is pending when the pool
	// breaks: it fails as broken, as a queued one does (Python's
	// BrokenProcessPool for every pending future), whatever comes next. A
	// Shutdown with CancelFutures, as the runner's once it hears of the
	// break, stopped that start and cancelled the task (futures map -j2
	// --initializer 'exit 1': one job of four CANCELLED, in 3 runs of 5).
	noLeak(t)
	p, fs, _ := breakWhileStarting(t)
	if done, _ := future.Wait(ctxTimeout(t), fs, future.FirstCompleted); len(done) == 0 {
		t.Fatalf("no future done after %v", patience)
	}
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true, CancelFutures: true}); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	checkBrokenByWorker0(t, fs)
}

func TestABreakStopsTheWorkersStillStarting(t *testing.T) {
	// As in Python, where a broken pool terminates its workers: worker_1's
	// initializer is stopped, and its task fails at once.
	noLeak(t)
	_, fs, started := breakWhileStarting(t)
	if done, _ := future.Wait(ctxTimeout(t), fs, future.FirstCompleted); len(done) == 0 {
		t.Fatalf("no future done after %v", patience)
	}
	pid := pidIn(started) // worker_0 failed once it was there
	if pid <= 0 {
		t.Fatalf("worker_1's initializer wrote no pid")
	}
	waitFor(t, "worker_1's initializer to be gone", func() bool { return gone(pid) })
	checkBrokenByWorker0(t, fs)
}
