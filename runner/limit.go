package runner

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/shell"
)

// The system's limits. A job that cannot start because the system has no
// more of a resource to give (too many open files in this process, EMFILE,
// or in the system, ENFILE; too many processes, or no memory to fork,
// EAGAIN) is not a failure of the job: the run waits for a running job to
// end, which frees what it held, and starts it again, as GNU parallel
// lowers its concurrency. It says so once, on stderr, and from then on runs
// at most as many jobs at once as were running when the system refused.
// The job fails only when nothing else is running, and so nothing will be
// freed. This holds for both executors: a job a worker process could not
// start comes back Refused (job.Outcome.Refused) and waits here the
// same way; a worker process that cannot be started lowers the number of
// workers of the pool (pool.ProcessOptions.OnRefused).

// refusedBy returns the errno with which err says the system refused a
// resource (EMFILE, ENFILE, EAGAIN), or 0.
func refusedBy(err error) syscall.Errno { return pool.Refusal(err) }

// gate counts the running jobs of a run and, once the system has refused
// to start one, holds starts back to the number that were running then.
// Its methods are safe for concurrent use.
type gate struct {
	stderr io.Writer // where the note goes

	mu      sync.Mutex    // guards the fields below
	running int           // attempts between enter and leave (or refused)
	ended   uint64        // attempts that have left, ever
	limit   int           // at most this many at once; 0: no limit yet
	changed chan struct{} // closed, and replaced, when an attempt leaves
	noted   bool          // the note has been written
}

func newGate(stderr io.Writer) *gate {
	return &gate{stderr: stderr, changed: make(chan struct{})}
}

// enter waits until one more attempt may run, counts it running and
// returns a ticket for refused. It returns ctx's error if ctx ends first.
func (g *gate) enter(ctx context.Context) (uint64, error) {
	g.mu.Lock()
	for g.limit > 0 && g.running >= g.limit {
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		g.mu.Lock()
	}
	g.running++
	t := g.ended
	g.mu.Unlock()
	return t, nil
}

// leave counts an attempt that entered as ended.
func (g *gate) leave() {
	g.mu.Lock()
	g.running--
	g.ended++
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
}

// refused is called in place of leave by an attempt that entered with
// ticket and that the system refused to start with errno. It lowers the
// limit to the number of attempts running now, says once that it did, and
// waits until one of them ends (or ctx ends): then it returns true, and
// the attempt may enter and try again. It returns false at once when
// nothing else is running and nothing ended since the attempt entered:
// nothing will free a resource, and the attempt is to fail.
func (g *gate) refused(ctx context.Context, ticket uint64, errno syscall.Errno) bool {
	g.mu.Lock()
	g.running--
	if g.ended != ticket { // something was freed since the start was tried
		g.mu.Unlock()
		return true
	}
	others := g.running
	if others == 0 {
		g.mu.Unlock()
		return false
	}
	if g.limit == 0 || others < g.limit {
		g.limit = others
	}
	note := !g.noted
	g.noted = true
	limit, ch := g.limit, g.changed
	g.mu.Unlock()
	if note {
		g.say(errno, limit)
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
	return true
}

// lowered is told that the process pool runs n workers at most, the
// system having refused to start another one with errno; it says so once.
func (g *gate) lowered(errno syscall.Errno, n int) {
	g.mu.Lock()
	note := !g.noted
	g.noted = true
	g.mu.Unlock()
	if note {
		g.say(errno, n)
	}
}

func (g *gate) say(errno syscall.Errno, n int) {
	fmt.Fprintf(g.stderr, "futures: the system refused more processes/files (%s): running at most %d jobs at once\n",
		job.RefusalName(errno), n)
}

// do starts a job through the gate with start, which tries to start it and
// calls its continuation with the outcome once the job has ended;
// refusable says whether start may report a refusal (job.Outcome.Refused)
// rather than fail. A refused start waits for another job to end and
// starts again; when nothing else runs, start is called once more with
// refusable false, and fails as any start failure does if the system
// refuses it again. When ctx ends while it waits, start is called with ctx
// ended (it then reports the job not started). k gets the outcome of the
// start that was not refused.
func (g *gate) do(ctx context.Context, start func(refusable bool, k func(job.Outcome)), k func(job.Outcome)) {
	g.try(ctx, true, start, k)
}

// try is one start of do.
func (g *gate) try(ctx context.Context, refusable bool, start func(bool, func(job.Outcome)), k func(job.Outcome)) {
	ticket, err := g.enter(ctx)
	if err != nil {
		start(refusable, k)
		return
	}
	start(refusable, func(out job.Outcome) {
		if out.Refused == 0 {
			g.leave()
			k(out)
			return
		}
		if !g.refused(ctx, ticket, out.Refused) {
			refusable = false
		}
		g.try(ctx, refusable, start, k)
	})
}

// execLimited runs one attempt of c on the run's executor through the
// run's gate (see do), and calls k with its outcome.
func (r *run) execLimited(ctx context.Context, c shell.Command, eo proc.ExecOptions, files *Files, k func(job.Outcome)) {
	r.gate.do(ctx, func(refusable bool, k func(job.Outcome)) {
		eo.Refusable = refusable
		r.exec(ctx, c, eo, files, k)
	}, k)
}
