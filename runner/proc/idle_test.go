package proc

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/pool/job"
)

// goroutinesIn counts the goroutines whose stack holds fn, and those of
// them that are parked (on the poller, in a system call, or on a channel).
func goroutinesIn(fn string) (all, parked int) {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if !bytes.Contains(g, []byte(fn)) {
			continue
		}
		all++
		head, _, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(head, []byte("[IO wait")) || bytes.Contains(head, []byte("[syscall")) ||
			bytes.Contains(head, []byte("[chan receive")) || bytes.Contains(head, []byte("[select")) {
			parked++
		}
	}
	return all, parked
}

// threads returns the number of OS threads of this process.
func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no Threads line in /proc/self/status")
	return 0
}

// idleJobs starts n jobs that print nothing, their stdout and stderr
// piped to writers of their own (cat, reading a stdin that all share and
// that stays open until release is called), and waits until every one has
// started and its Exec is parked. release ends them and waits for their
// Exec, which must report success.
func idleJobs(t *testing.T, n int) (release func()) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	end := sync.OnceFunc(func() {
		pw.Close()
		wg.Wait()
		pr.Close()
	})
	t.Cleanup(end)
	var started atomic.Int32
	outs := make([]job.Outcome, n)
	for i := range n {
		wg.Go(func() {
			// cat prints nothing until its stdin (shared by all) ends.
			outs[i] = Exec(context.Background(), argvCmd("cat"), ExecOptions{
				Stdin: pr, Stdout: &execOut{}, Stderr: &execOut{},
				Started: func(int) { started.Add(1) },
			})
		})
	}
	execEventually(t, patience, "every job started and parked", func() bool {
		_, execs := goroutinesIn("proc.Exec(")
		readers, parked := goroutinesIn("proc.(*stream).copy")
		return started.Load() == int32(n) && execs == n && parked == readers
	})
	return func() {
		t.Helper()
		end()
		for i, o := range outs {
			if o.ExitCode != 0 || o.Err != nil {
				t.Fatalf("job %d: exit %d, %v", i, o.ExitCode, o.Err)
			}
		}
	}
}

// A running job that prints nothing costs a few KiB: no output buffer
// before there is output, and no OS thread blocked waiting for its exit
// (a thousand jobs at -j1000 are a thousand waits).
func TestExecIdleJobsCostLittle(t *testing.T) {
	const n = 100
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	threads0 := threads(t)

	release := idleJobs(t, n)
	runtime.GC() // goroutinesIn's garbage
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	threadsN := threads(t)
	release()

	perJob := (int64(during.HeapInuse+during.StackInuse) - int64(before.HeapInuse+before.StackInuse)) / n
	t.Logf("%d idle jobs: %d B of heap and stacks per job, %d more threads in all", n, perJob, threadsN-threads0)
	if platform.Portable {
		return // wait4 blocks a thread per job: the portable paths are not held to this
	}
	if perJob > 24<<10 {
		t.Errorf("an idle job holds %d KiB of heap and stacks; want at most 24", perJob>>10)
	}
	if threadsN-threads0 > n/4 {
		t.Errorf("%d idle jobs hold %d more OS threads; want far fewer than one each", n, threadsN-threads0)
	}
}
