package proc

import (
	"context"
	"sync"
	"syscall"

	"github.com/futures-cli/futures/internal/platform"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/shell"
)

// Start starts one job as Exec does and returns at once; done is called
// once, on a goroutine of its own, with the outcome Exec would have
// returned, after the job has ended and its output has been delivered.
//
// On Linux no goroutine waits for the job meanwhile: its pidfd and output
// pipes are in the epoll set that all running jobs share
// (netpoll_linux.go), and a goroutine runs only while there is output to
// deliver, and to end the job. A thousand running jobs are a thousand
// small structs, not a thousand parked goroutines with their stacks.
// Where that cannot be (the portable paths, no pidfd, an output read by a
// goroutine of its own, a stdin reader to feed, a descriptor the set
// refuses), a goroutine waits for the job as Exec does.
func Start(ctx context.Context, c shell.Command, o ExecOptions, done func(job.Outcome)) {
	r, out := begin(ctx, c, o)
	switch {
	case r == nil:
		go done(out)
	case !r.waitAsync(done):
		go func() { done(r.end(r.wait())) }()
	}
}

// waitAsync has the set call for r's pumping when its descriptors are
// ready, and end r and call done once its main process has exited; it
// reports false, having changed nothing that wait needs, when it cannot.
func (r *running) waitAsync(done func(job.Outcome)) bool {
	p := &r.p
	if platform.Portable || r.pidfd < 0 || p.feed != nil {
		return false
	}
	for _, s := range p.streams {
		if s.raw == nil {
			return false // read by a goroutine (not inline)
		}
	}
	if p.np == nil {
		if p.rawOpen() > 0 {
			// The set refused a pipe (rawOutput): its output would
			// wake nobody, and a job that fills it would never end.
			return false
		}
		// No raw pipe (the output goes to files): the pidfd alone.
		if p.np = newNetPoller(); p.np == nil {
			return false
		}
	}
	if p.np.watch(r.pidfd) != nil {
		return false // wait checks the exit by hand
	}
	a := &asyncWait{r: r, np: p.np, done: done}
	p.np.handle(a.wake)
	a.wake() // for what happened before the handler was there
	return true
}

// asyncWait is a started job that no goroutine waits for.
type asyncWait struct {
	r    *running
	np   *netPoller // r's place in the set (end's closeAll clears r.p.np)
	done func(job.Outcome)

	mu      sync.Mutex
	pumping bool // a goroutine is in pump (for good, once the job has exited)
	again   bool // woken while pumping: pump looks again before it returns
	ending  bool // the job has exited: end's drain waits on the netPoller's wake
}

// wake is the set's handler for the job: it starts pump, or has the
// running one look again; once the job has exited, it wakes the drain of
// end as the set wakes a waiting Exec. The set calls it with its lock
// held.
func (a *asyncWait) wake() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ending {
		a.np.poke()
		return
	}
	if a.pumping {
		a.again = true
		return
	}
	a.pumping = true
	go a.pump()
}

// pump delivers what the job's pipes hold, without waiting for more, and
// returns when they hold nothing; once the job's main process has exited
// it ends the job, as Exec does, and calls done.
func (a *asyncWait) pump() {
	p := &a.r.p
	for {
		fds, of, n := p.pollFds(a.r.pidfd)
		exited, any, err := p.service(fds[:n], &of, 0)
		p.releaseBuf() // a job waiting for output holds no buffer
		if exited || err != nil && err != syscall.EINTR {
			// The drain of end waits on the set, as Exec's does; and if
			// poll(2) failed (it cannot here), wait does.
			a.mu.Lock()
			a.ending = true
			a.mu.Unlock()
			var st *exitStatus
			if !exited {
				st = a.r.wait()
			}
			a.done(a.r.end(st))
			return
		}
		if any || err != nil { // ready, or EINTR: look again
			continue
		}
		a.mu.Lock()
		if !a.again {
			a.pumping = false
			a.mu.Unlock()
			return
		}
		a.again = false
		a.mu.Unlock()
	}
}
