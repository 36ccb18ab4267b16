package pool

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/futures-cli/futures/future"
)

// ThreadPool is an [Executor] whose workers are goroutines, with the
// semantics of Python's ThreadPoolExecutor.
//
// Submit never blocks: the queue of pending tasks is unbounded (bound the
// number in flight yourself, as [Map] does). Workers start lazily: Submit
// starts one only when no worker is idle and fewer than MaxWorkers run, so
// an idle worker is reused before a new one starts. Tasks start in
// submission order (FIFO); they finish in any order.
//
// A task runs with a context derived from the one given to Submit, carrying
// the worker's name and ID ([WorkerName], [WorkerID]): cancelling the Submit
// context cancels the running task's context. A task whose Submit context
// is already done when a worker reaches it is not run: its future is
// cancelled. Until then it stays pending; cancel its future (or Shutdown
// with CancelFutures) to drop it sooner.
//
// A task that panics fails its future with a [*PanicError]; the worker goes
// on. If the initializer fails, the pool is broken: every pending future
// fails with an error wrapping [ErrBrokenThreadPool] that names the worker
// and the initializer's error, the workers exit once their running task is
// done, and Submit returns that error.
//
// A task may go on without its worker's goroutine ([Later]): its worker
// stays busy until the task settles its future, from any goroutine, and a
// thousand tasks waiting so for their processes hold no goroutine.
//
// The futures a pool hands out are the pool's to run: callers may Cancel
// them and wait on them, but must not set their state.
//
// The cost of a task is two allocations (its future and the task's context)
// and a few mutex hand-offs; see BenchmarkThreadPoolSubmit.
// Create a ThreadPool with [NewThreadPool]; the zero value is not usable.
type ThreadPool[T any] struct {
	max    int
	prefix string
	init   func(context.Context) error

	core[T]
}

var _ Executor[int] = (*ThreadPool[int])(nil)

// NewThreadPool returns a ThreadPool configured by opts. It starts no
// goroutine: workers start as tasks are submitted. It panics if
// opts.MaxWorkers is negative.
func NewThreadPool[T any](opts Options) *ThreadPool[T] {
	if opts.MaxWorkers < 0 {
		panic("pool: NewThreadPool: MaxWorkers " + strconv.Itoa(opts.MaxWorkers) + " < 0")
	}
	if opts.MaxWorkers == 0 {
		opts.MaxWorkers = runtime.NumCPU()
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "worker"
	}
	p := &ThreadPool[T]{
		max:    opts.MaxWorkers,
		prefix: opts.NamePrefix,
		init:   opts.Initializer,
	}
	p.setup(p.growLocked)
	return p
}

// Submit queues t to run with a context derived from ctx and returns its
// future at once. After Shutdown it returns ErrShutdown; once the pool is
// broken it returns the error that broke it (matching ErrBrokenThreadPool).
// A nil ctx means context.Background().
func (p *ThreadPool[T]) Submit(ctx context.Context, t Task[T]) (*future.Future[T], error) {
	return p.submit(ctx, t)
}

// growLocked starts a worker if there are fewer than max; p.mu is held.
func (p *ThreadPool[T]) growLocked() {
	if p.workers < p.max {
		p.startLocked()
	}
}

// Shutdown stops the pool taking work: Submit returns ErrShutdown from now
// on. With o.CancelFutures, every pending future is cancelled first; the
// others still run. Workers exit once the queue is empty.
//
// With o.Wait, Shutdown blocks until the running and pending tasks are done
// and every worker goroutine has exited, or until ctx ends, when it returns
// ctx.Err() (the tasks go on; Shutdown may be called again to wait for
// them). Without o.Wait it returns nil at once. Shutdown may be called any
// number of times, from any goroutine; call it with Wait at least once to
// own the workers' goroutines.
func (p *ThreadPool[T]) Shutdown(ctx context.Context, o ShutdownOptions) error {
	return p.stop(ctx, o)
}

// maxWorkers implements sizer.
func (p *ThreadPool[T]) maxWorkers() int { return p.max }

// startLocked starts a worker goroutine, idle until it takes a task; p.mu is
// held. The goroutine is owned by the pool: Shutdown with Wait waits for it
// through p.exited.
func (p *ThreadPool[T]) startLocked() {
	w := &worker{id: p.started, name: p.prefix + "_" + strconv.Itoa(p.started)}
	p.started++
	p.workers++
	p.idle++
	go p.run(w)
}

// How far a worker got, for its exit to tell a normal return from
// runtime.Goexit.
const (
	stageInit  = iota // running the initializer
	stageTasks        // taking and running tasks
	stageDone         // returning normally
	stageLater        // returning while its task goes on (Later): still busy
)

// run is a worker goroutine: the initializer, then tasks until the queue is
// empty after Shutdown, or the pool is broken, or a task goes on without
// it (Later).
func (p *ThreadPool[T]) run(w *worker) {
	stage := stageInit
	defer func() { p.exit(w, stage) }()
	if p.init != nil {
		ctx := context.WithValue(context.Background(), workerKey{}, w)
		_, err := catch(func() (struct{}, error) { return struct{}{}, p.init(ctx) })
		if err != nil {
			p.breakPool(w, err)
			stage = stageDone
			return
		}
	}
	stage = stageTasks // until tasks returns: runtime.Goexit in a task loses this worker
	stage = p.tasks(w)
}

// resume is a worker goroutine again, once the task that went on without
// it has settled its future: tasks, as run's.
func (p *ThreadPool[T]) resume(w *worker) {
	stage := stageTasks
	defer func() { p.exit(w, stage) }()
	stage = p.tasks(w)
}

// tasks runs tasks until there are none for this worker, and returns the
// stage its goroutine ends in: stageDone, or stageLater when a task went
// on without it.
func (p *ThreadPool[T]) tasks(w *worker) int {
	for {
		it, ok := p.next()
		if !ok {
			return stageDone
		}
		if p.execute(w, it) {
			return stageLater
		}
	}
}

// next takes the oldest pending task, waiting while the queue is empty; it
// returns false when the worker should exit. The worker is idle when it
// calls next, and busy when next returns a task.
func (p *ThreadPool[T]) next() (item[T], bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.broken != nil {
			return item[T]{}, false
		}
		if it, ok := p.queue.pop(); ok {
			p.idle--
			return it, true
		}
		if p.shutdown {
			return item[T]{}, false
		}
		p.work.Wait()
	}
}

// execute runs one task and settles its future, and reports false; or
// reports true, settling nothing, when the task went on without its worker
// (Later): the worker stays busy until the task's settle. The worker
// becomes idle again before the future is settled, so that a task
// submitted as soon as the result is seen reuses this worker rather than
// starting another.
func (p *ThreadPool[T]) execute(w *worker, it item[T]) (later bool) {
	if it.ctx.Err() != nil {
		it.f.Cancel()
	}
	if !it.f.SetRunningOrNotifyCancel() {
		p.setIdle()
		return false
	}
	finished := false
	defer func() {
		if !finished { // runtime.Goexit in the task: this worker is lost
			it.f.SetException(errGoexit)
		}
	}()
	lt := &laterTask[T]{}
	lt.settle = func(v T, err error) { p.settleLater(w, it, lt, v, err) }
	ctx := context.WithValue(context.WithValue(it.ctx, workerKey{}, w), laterKey{}, lt)
	v, err := catch(func() (T, error) { return it.task(ctx) })
	finished = true
	lt.mu.Lock()
	switch {
	case !lt.asked || err != nil:
		// Settled by its return (an error or a panic wins over Later).
		lt.done = true
	case lt.done:
		v, err = lt.v, lt.err // settled before it returned
	default:
		lt.returned = true
		lt.mu.Unlock()
		return true
	}
	lt.mu.Unlock()
	p.setIdle()
	settle(it.f, v, err)
	return false
}

// settle sets f's result, or its exception when err is not nil.
func settle[T any](f *future.Future[T], v T, err error) {
	if err != nil {
		f.SetException(err)
	} else {
		f.SetResult(v)
	}
}

// settleLater is a Later task's settle: the first call settles its future,
// at once when the task has returned (its worker becomes idle, with a
// goroutine again), or through execute when it has not yet.
func (p *ThreadPool[T]) settleLater(w *worker, it item[T], lt *laterTask[T], v T, err error) {
	lt.mu.Lock()
	if lt.done {
		lt.mu.Unlock()
		return
	}
	lt.done = true
	if !lt.returned {
		lt.v, lt.err = v, err
		lt.mu.Unlock()
		return
	}
	lt.mu.Unlock()
	// Idle before the future is settled, as execute's worker is; its
	// goroutine starts after: one that found the queue empty after
	// Shutdown would exit, and let Shutdown return, with the future not
	// yet settled.
	p.setIdle()
	settle(it.f, v, err)
	go p.resume(w) // owned as run is: it counts in p.workers
}

// laterTask is a running task's Later state.
type laterTask[T any] struct {
	settle func(T, error)

	mu       sync.Mutex
	asked    bool // Later was called
	returned bool // the task returned after Later, its future not settled
	done     bool // its future is settled, or settle was called
	v        T    // settle's, called before the task returned
	err      error
}

// laterKey is the context key of a ThreadPool task's *laterTask, or of
// noLater in a ProcessPool task's context.
type laterKey struct{}

// noLater hides, in a ProcessPool task's context, the Later of a
// ThreadPool task that context may come from.
type noLater struct{}

// Later, called by a task of a ThreadPool while it runs, has its future
// settled by the returned function instead of by the task's return: the
// task may return at once, and its worker stays busy, with no goroutine of
// its own, until settle is called, once, from any goroutine (later calls
// do nothing). A task that then returns an error, or panics, settles its
// future with that at once, and settle does nothing. Calling settle before
// the task returns settles the future when it returns.
//
// A thousand tasks that each wait for a process (runner/proc.Start) so
// hold a thousand busy workers and no goroutine. ok is false outside a
// ThreadPool's task (a ProcessPool's worker is a process, and waits for
// the task's return): settle is then nil, and the task settles its future
// by returning, as any task does.
func Later[T any](ctx context.Context) (settle func(T, error), ok bool) {
	lt, ok := ctx.Value(laterKey{}).(*laterTask[T])
	if !ok {
		return nil, false
	}
	lt.mu.Lock()
	lt.asked = true
	lt.mu.Unlock()
	return lt.settle, true
}

// breakPool marks the pool broken by w's initializer error and fails every
// pending future with that error.
func (p *ThreadPool[T]) breakPool(w *worker, cause error) {
	err := fmt.Errorf("%w: %s: initializer: %w", ErrBrokenThreadPool, w.name, cause)
	p.mu.Lock()
	if p.broken == nil {
		p.broken = err
	}
	err = p.broken
	pending := p.queue.drain()
	p.work.Broadcast()
	p.mu.Unlock()
	for _, it := range pending {
		it.f.SetException(err) // ErrInvalidState if the caller cancelled it: fine
	}
}

// exit accounts for a worker goroutine that is about to return.
func (p *ThreadPool[T]) exit(w *worker, stage int) {
	if stage == stageInit { // runtime.Goexit in the initializer
		p.breakPool(w, errGoexit)
	}
	if stage == stageLater {
		return // busy, with its task; settleLater gives it a goroutine again
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.workers--
	if stage == stageTasks {
		// Lost to runtime.Goexit in a task, not idle; replaced if work is left.
		if p.broken == nil && p.queue.len() > p.idle && p.workers < p.max {
			p.startLocked()
		}
	} else {
		p.idle--
	}
	if p.shutdown && p.workers == 0 {
		p.closeLocked()
	}
}

// item is a submitted task waiting for a worker.
type item[T any] struct {
	ctx  context.Context
	task Task[T]
	f    *future.Future[T]

	// lost is set when a ProcessPool put the item back in its queue after
	// its worker died (LossRequeue): its future is already RUNNING, and
	// this is the error it gets if it is not run again.
	lost error
}

// fifo is an unbounded queue of items: a ring buffer that grows by doubling.
type fifo[T any] struct {
	buf  []item[T]
	head int // index of the oldest item
	n    int // number of items
}

func (q *fifo[T]) len() int { return q.n }

func (q *fifo[T]) push(it item[T]) {
	if q.n == len(q.buf) {
		buf := make([]item[T], max(16, 2*len(q.buf)))
		k := copy(buf, q.buf[q.head:])
		copy(buf[k:], q.buf[:q.head])
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = it
	q.n++
}

// pushFront puts it before every other item: it is the next one out.
func (q *fifo[T]) pushFront(it item[T]) {
	q.push(it) // grows the buffer if need be
	q.n--
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[(q.head+q.n+1)%len(q.buf)] = item[T]{}
	q.buf[q.head] = it
	q.n++
}

func (q *fifo[T]) pop() (item[T], bool) {
	if q.n == 0 {
		return item[T]{}, false
	}
	it := q.buf[q.head]
	q.buf[q.head] = item[T]{} // let the task and its context be collected
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 && len(q.buf) > 1024 { // give back the memory of a burst
		q.buf, q.head = nil, 0
	}
	return it, true
}

// drain removes and returns every item, oldest first.
func (q *fifo[T]) drain() []item[T] {
	all := make([]item[T], 0, q.n)
	for {
		it, ok := q.pop()
		if !ok {
			return all
		}
		all = append(all, it)
	}
}
