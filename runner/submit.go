package runner

import (
	"errors"
	"io"
	"sync"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/input"
)

// Submitting: the producer side of a run. submitAll reads jobs from the
// Source (nextJob, which skips what --resume says is done) and submits each
// to the pool within the window, queueing its future for the emitter.

// pending is a submitted job on its way to being emitted.
type pending struct {
	job *input.Job
	f   *future.Future[*jobState]
}

// queue carries submitted jobs from the producer to the emitter.
type queue struct {
	ordered   chan pending  // KeepOrder: in submission order
	inputDone chan struct{} // closed when the producer has submitted its last job
	n         int           // jobs submitted; read after inputDone
	slots     chan struct{} // one per job in flight (submitted, not yet emitted)

	mu        sync.Mutex // guards completed
	completed []pending  // not KeepOrder: done futures, in completion order
	ready     chan struct{}
}

// push adds a done future to the completion queue; it never blocks, so it
// is safe in a done callback that runs in any goroutine.
func (q *queue) push(p pending) {
	q.mu.Lock()
	q.completed = append(q.completed, p)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the done futures queued so far.
func (q *queue) pop() []pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	ps := q.completed
	q.completed = nil
	return ps
}

// submitAll starts the producer: it reads src and submits each job while
// fewer than Window jobs are in flight. It returns at once; emit waits for
// the producer (through inputDone) before it returns.
func (r *run) submitAll(src input.Source) *queue {
	q := &queue{inputDone: make(chan struct{}), ready: make(chan struct{}, 1)}
	q.slots = make(chan struct{}, r.opt.Window)
	if r.opt.KeepOrder {
		q.ordered = make(chan pending, r.opt.Window)
	}
	go func() {
		defer func() {
			if r.opt.Observer != nil {
				r.opt.Observer.Total(q.n)
			}
			if q.ordered != nil {
				close(q.ordered)
			}
			close(q.inputDone)
		}()
		for r.ctx.Err() == nil {
			job, ok := r.nextJob(src)
			if !ok {
				return
			}
			select {
			case q.slots <- struct{}{}:
			case <-r.ctx.Done():
				return
			}
			f, err := r.pool.Submit(r.ctx, r.task(job))
			if err != nil {
				<-q.slots
				if errors.Is(err, pool.ErrBroken) {
					r.broken(err)
				}
				return
			}
			q.n++
			p := pending{job: job, f: f}
			if q.ordered != nil {
				q.ordered <- p
			} else {
				f.AddDoneCallback(func(*future.Future[*jobState]) { q.push(p) })
			}
		}
	}()
	return q
}

// nextJob reads the next job of src that the joblog does not say to skip.
// It returns false at the end of the input, when a read was broken off
// because the run ended (StopInput), or on a fault of the input, which it
// records and which stops the run.
func (r *run) nextJob(src input.Source) (*input.Job, bool) {
	for {
		job, err := src()
		if err == io.EOF || err != nil && r.ctx.Err() != nil {
			return nil, false
		}
		if err != nil {
			r.fault(err)
			return nil, false
		}
		if !r.resume.Skip(job) {
			return job, true
		}
	}
}
