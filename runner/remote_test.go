package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/template"
)

// testWorkerEnv makes this test binary serve as `futures worker` (see
// TestMain), so that the process executor's tests run real worker
// processes.
const testWorkerEnv = "FUTURES_RUNNER_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(testWorkerEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		err := pool.ServeWorker(ctx, os.Stdin, os.Stdout, pool.WorkerOptions{Exec: proc.ExecJob})
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// workerLauncher starts this test binary as a worker.
func workerLauncher(t *testing.T) pool.Launcher {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &pool.LocalLauncher{Command: []string{exe}, Env: append(os.Environ(), testWorkerEnv+"=1", "GORACE=atexit_sleep_ms=0")}
}

func TestRemoteJobsNameTheirHostInRecordsAndSummary(t *testing.T) {
	l := workerLauncher(t)
	opt := Options{Executor: ProcessExecutor, Hosts: []pool.Host{{Name: "a", Launcher: l, Workers: 1}, {Name: "b", Launcher: l, Workers: 1}}}
	// The first job holds its host's worker until every other job has
	// run, on the other host.
	ev := events(t.TempDir())
	sum, obs, out := runLinesNoting(t, ev, opt, ev.waitFor("ran-1")+ev.waitFor("ran-2")+ev.waitFor("ran-3")+"echo slow",
		ev.touch("ran-1")+"echo 1", ev.touch("ran-2")+"echo 2", ev.touch("ran-3")+"echo 3")
	if sum.Succeeded != 4 || sum.ExitStatus() != 0 {
		t.Fatalf("%s\n%s", sum, out)
	}
	slow, other := obs.recs[1].Host, "a"
	if slow == "a" {
		other = "b"
	}
	for seq := 2; seq <= 4; seq++ {
		if h := obs.recs[seq].Host; h != other {
			t.Fatalf("job %d ran on %q, want %q (the slow job ran on %q)", seq, h, other, slow)
		}
	}
	want := "; hosts: a×1 b×3"
	if slow == "b" {
		want = "; hosts: a×3 b×1"
	}
	if s := sum.String(); !strings.Contains(s, want) {
		t.Fatalf("summary %q, want %q", s, want)
	}
}

func TestWorkerLossRequeueRunsTheJobAgainAndCountsARetry(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "m")
	killOnce := "if [ -e " + marker + " ]; then echo second; else touch " + marker + "; kill -KILL $PPID; sleep 5; fi"
	l := workerLauncher(t)
	hosts := []pool.Host{{Name: "a", Launcher: l, Workers: 1}}

	sum, obs, out := runLines(t, Options{Executor: ProcessExecutor, Hosts: hosts, WorkerLoss: pool.LossRequeue}, killOnce, "echo other")
	if sum.Succeeded != 2 || sum.ExitStatus() != 0 || !strings.Contains(out, "second") {
		t.Fatalf("requeue: %s; exit %d\n%s", sum, sum.ExitStatus(), out)
	}
	if r := obs.recs[1]; r.Retries != 1 || r.Error != "" {
		t.Fatalf("the requeued job's record: retries %d error %q", r.Retries, r.Error)
	}

	// Under break (the default) the same loss breaks the run: exit 3, and
	// every job has its record. The job takes its worker down once the run
	// has read both jobs: a job not yet read when the pool broke is never
	// read, and has no record.
	_ = os.Remove(marker)
	ev := events(t.TempDir())
	sum, obs, out = runLinesNoting(t, ev, Options{Executor: ProcessExecutor, Hosts: hosts}, ev.waitFor("read")+killOnce, "echo other")
	if sum.ExitStatus() != 3 || !errors.Is(sum.Broken, pool.ErrBrokenProcessPool) || len(obs.recs) != 2 {
		t.Fatalf("break: %s; exit %d; %d records\n%s", sum, sum.ExitStatus(), len(obs.recs), out)
	}
}

func TestWorkerLossRequeueDropsAHostThatCannotStart(t *testing.T) {
	bad := &pool.LocalLauncher{Command: []string{"/bin/sh", "-c", "echo no route to host >&2; exit 255"}}
	opt := Options{Executor: ProcessExecutor, WorkerLoss: pool.LossRequeue, Hosts: []pool.Host{
		{Name: "down", Launcher: bad, Workers: 1}, {Name: "up", Launcher: workerLauncher(t), Workers: 1},
	}}
	// The first job holds up's worker until down has failed to start 4
	// times (0.6 s of backoff) and is dropped: then the rest run on up.
	ev := events(t.TempDir())
	opt.WriteHook = dropHook{file: filepath.Join(string(ev), "dropped")}
	lines := []string{ev.waitFor("dropped") + "true"}
	for i := range 5 {
		lines = append(lines, fmt.Sprintf("echo %d", i))
	}
	sum, obs, out := runLinesNoting(t, ev, opt, lines...)
	if sum.Succeeded != 6 || sum.ExitStatus() != 0 {
		t.Fatalf("%s; exit %d\n%s", sum, sum.ExitStatus(), out)
	}
	for seq, r := range obs.recs {
		if r.Host != "up" {
			t.Errorf("job %d ran on %q", seq, r.Host)
		}
	}
	if !strings.Contains(out, "futures: down dropped:") || !strings.Contains(out, "no route to host") {
		t.Fatalf("no message about the dropped host:\n%s", out)
	}
}

// dropHook is a WriteHook that makes file appear once the runner has said
// that a host was dropped.
type dropHook struct{ file string }

func (dropHook) BeforeWrite(io.Writer) {}

func (h dropHook) AfterWrite(_ io.Writer, p []byte) {
	if bytes.Contains(p, []byte(" dropped: ")) {
		_ = os.WriteFile(h.file, nil, 0o644)
	}
}

// depthHook records, at each write of a job's output, how deep the stack
// of the writing goroutine is.
type depthHook struct {
	mu     sync.Mutex
	depths []int
}

func (*depthHook) BeforeWrite(io.Writer) {}

func (h *depthHook) AfterWrite(io.Writer, []byte) {
	pcs := make([]uintptr, 1<<16)
	n := runtime.Callers(0, pcs)
	h.mu.Lock()
	h.depths = append(h.depths, n)
	h.mu.Unlock()
}

func TestProcessExecutorRetriesDoNotDeepenTheStack(t *testing.T) {
	// With the process executor an attempt's continuation runs before the
	// call that took it returns: a retry called from it nested a dozen
	// frames per attempt (3,000 retries grew the stack by 11 MiB; a few
	// hundred thousand would overflow it).
	const retries = 30
	h := &depthHook{}
	opt := Options{Executor: ProcessExecutor, Retries: retries, Output: Ungroup, WriteHook: h,
		Hosts: []pool.Host{{Name: ":", Launcher: workerLauncher(t), Workers: 1}}}
	sum, _, out := runLines(t, opt, "echo attempt; false")
	if sum.Failed != 1 {
		t.Fatalf("%s\n%s", sum, out)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.depths) != retries+1 {
		t.Fatalf("%d writes, want one for each of %d attempts\n%s", len(h.depths), retries+1, out)
	}
	// The first retry's depth, not the first attempt's: those after it
	// start from the continuation of the one before.
	if first, last := h.depths[1], h.depths[retries]; last != first {
		t.Fatalf("the last attempt wrote %d frames deep, the first retry %d: the retries nest", last, first)
	}
}

func TestABrokenPoolFailsEveryJobTheSameWay(t *testing.T) {
	// futures map --executor process -j2 --initializer 'exit 1' 'echo {}'
	// ::: a b c d: in 3 runs of 5, one job was CANCELLED (exit code 0,
	// "cancelled: pool: process pool is broken…"), the others FINISHED.
	// Here worker_0's initializer fails once worker_1's has started, and
	// worker_1's would take 300 s: the job worker_1 took is pending when
	// the pool breaks, as that one was. Every job fails as broken (Python's
	// BrokenProcessPool for every pending future), and every record says
	// its command, as a record of a job that never started does.
	ev := events(t.TempDir())
	init := `if [ "$FUTURES_WORKER" = worker_0 ]; then ` + ev.waitFor("worker_1") + `echo worker_0 fails >&2; exit 1; fi; ` +
		ev.touch("worker_1") + "sleep 300"
	opt := Options{Executor: ProcessExecutor, Initializer: init, Hosts: []pool.Host{{Name: ":", Launcher: workerLauncher(t), Workers: 2}}}
	tmpl, err := template.Parse([]string{"echo {}"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	obs := &collect{}
	opt.Stdout, opt.Stderr, opt.Observer = &out, &out, obs
	src := input.MapSource(tmpl, input.Items(input.NewReader(strings.NewReader("a\nb\nc\nd\n"), '\n'), nil), input.MapOptions{})
	sum := Run(context.Background(), opt, src)
	if sum.Failed != 4 || sum.Cancelled != 0 || sum.ExitStatus() != 3 || !strings.Contains(errText(sum.Broken), "worker_0 fails") {
		t.Errorf("%s; exit %d; broken: %v", sum, sum.ExitStatus(), sum.Broken)
	}
	for seq, item := range []string{"a", "b", "c", "d"} {
		r := obs.recs[seq+1]
		if r == nil {
			t.Errorf("job %d: no record", seq+1)
			continue
		}
		if r.State != future.Finished || r.ExitCode != -1 || !strings.Contains(r.Error, "process pool is broken") ||
			!strings.Contains(r.Error, "worker_0 fails") {
			t.Errorf("job %d: %v, exit code %d, error %q; want FINISHED, -1, worker_0's broken error", seq+1, r.State, r.ExitCode, r.Error)
		}
		if want := "echo " + item; r.Command != want {
			t.Errorf("job %d: command %q, want %q", seq+1, r.Command, want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
