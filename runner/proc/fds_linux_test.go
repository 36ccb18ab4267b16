package proc

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/futures-cli/futures/internal/platform"
)

// openFDs returns the number of descriptors this process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// A running job holds three descriptors in the runner: its two output
// pipes and one pidfd (plus one epoll set shared by all jobs). Every exec
// of a job copies, then closes, every descriptor the runner holds, so at
// -j1000 each one a job holds costs a thousand closes per exec.
func TestExecRunningJobHoldsThreeDescriptors(t *testing.T) {
	if !havePidfd() {
		t.Skip("no pidfd (Linux before 5.3)")
	}
	if _, err := devNull(); err != nil { // opened once per process: not the jobs'
		t.Fatal(err)
	}
	const n = 50
	before := openFDs(t)
	release := idleJobs(t, n)
	during := openFDs(t)
	release()
	t.Logf("%d running jobs: %d descriptors more (%d before)", n, during-before, before)
	// Besides the jobs': the two ends of the stdin pipe they share, and
	// the epoll set that all jobs share.
	if during-before > 3*n+3 {
		t.Errorf("%d running jobs hold %d descriptors, %.1f each; want at most 3 each (2 pipes, 1 pidfd), and 3 shared",
			n, during-before, float64(during-before)/n)
	}
}

// The goroutine that serves the shared epoll set runs while a job is in it,
// and is gone once the last job has left, however jobs come and go.
func TestJobSetIsServedWhileJobsRun(t *testing.T) {
	if platform.Portable {
		t.Skip("no epoll set: the portable paths are forced")
	}
	serving := func() int { n, _ := goroutinesIn("proc.(*pollSet).serve"); return n }
	if n := serving(); n != 0 {
		t.Fatalf("%d serving goroutines before any job", n)
	}
	release := idleJobs(t, 3)
	if n := serving(); n != 1 {
		t.Errorf("%d serving goroutines while jobs run, want 1", n)
	}
	release()
	// Its owner, the last job to leave, has waited for it to return: only
	// its last instructions may still be on its stack.
	execEventually(t, patience, "the serving goroutine to end", func() bool { return serving() == 0 })
	// Jobs that come and go, some alone in the set, some not: each stop
	// of the goroutine races with the next start.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 25 {
				var out execOut
				o := Exec(context.Background(), argvCmd("echo", strconv.Itoa(i)), ExecOptions{Stdout: &out, Stderr: &out})
				if o.ExitCode != 0 || o.Err != nil || out.String() != strconv.Itoa(i)+"\n" {
					t.Errorf("job %d: %q, %+v", i, out.String(), o)
				}
			}
		})
	}
	wg.Wait()
	execEventually(t, patience, "the serving goroutine to end", func() bool { return serving() == 0 })
}
