package pool

import (
	"context"
	"errors"
	"sync"

	"github.com/futures-cli/futures/future"
)

// core is what a ThreadPool and a ProcessPool share: the queue of pending
// tasks, the count of workers, and the shutdown and broken states, under
// one mutex; Submit and Shutdown are the same for both. Each pool starts
// its own workers (grow) and runs its own tasks.
type core[T any] struct {
	// exited is closed once the pool is shut down and its last worker has
	// exited; Shutdown with Wait waits for it.
	exited chan struct{}
	// grow is called, with mu held, when the queue holds more tasks than
	// there are idle workers: it starts a worker if the pool may.
	grow func()

	mu       sync.Mutex
	work     sync.Cond // signalled, with mu, when queue gains an item or the pool stops
	queue    fifo[T]   // pending tasks, oldest first; guarded by mu
	workers  int       // running worker goroutines; guarded by mu
	started  int       // workers ever started; guarded by mu
	idle     int       // workers not running a task, each bound to take one from queue; guarded by mu
	shutdown bool      // Shutdown was called; guarded by mu
	broken   error     // why the pool is broken, or nil; guarded by mu
	closed   bool      // exited is closed; guarded by mu
}

// setup readies c; grow is the pool's way to start a worker.
func (c *core[T]) setup(grow func()) {
	c.exited = make(chan struct{})
	c.work.L = &c.mu
	c.grow = grow
}

// submit is Submit: it queues t with ctx and returns its future at once,
// or ErrShutdown after Shutdown, or the error that broke the pool.
func (c *core[T]) submit(ctx context.Context, t Task[T]) (*future.Future[T], error) {
	if t == nil {
		return nil, errors.New("pool: Submit: nil Task")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	if c.shutdown {
		return nil, ErrShutdown
	}
	f := future.New[T]()
	c.queue.push(item[T]{ctx: ctx, task: t, f: f})
	c.work.Signal()
	// Each pending task claims one idle worker; start a worker for a task
	// that no idle worker will take (CPython's _adjust_thread_count).
	if c.queue.len() > c.idle {
		c.grow()
	}
	return f, nil
}

// stop is Shutdown: no more Submit; with o.CancelFutures the pending
// futures are cancelled (or failed with the error of their lost worker, for
// a task a ProcessPool put back in the queue: it is RUNNING already); with
// o.Wait it waits for every worker to exit, or for ctx to end.
func (c *core[T]) stop(ctx context.Context, o ShutdownOptions) error {
	c.mu.Lock()
	c.shutdown = true
	var cancel []item[T]
	if o.CancelFutures {
		cancel = c.queue.drain()
	}
	if c.workers == 0 {
		c.closeLocked()
	}
	c.work.Broadcast()
	c.mu.Unlock()

	// Outside the lock: done callbacks run inside Cancel, and may call the pool.
	for _, it := range cancel {
		if it.lost != nil {
			it.f.SetException(it.lost)
			continue
		}
		it.f.Cancel()
	}
	if !o.Wait {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeLocked closes exited once; mu is held.
func (c *core[T]) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.exited)
	}
}

// setIdle counts the calling worker idle again, after its task.
func (c *core[T]) setIdle() {
	c.mu.Lock()
	c.idle++
	c.mu.Unlock()
}
