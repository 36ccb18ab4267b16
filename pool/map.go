package pool

import (
	"context"
	"fmt"
	"iter"

	"github.com/futures-cli/futures/future"
)

// MapOptions configures [Map].
type MapOptions struct {
	// Chunksize is the number of items each task runs fn on, one after the
	// other; 0 or 1 means one item per task. Larger chunks cut the per-task
	// overhead for a cheap fn, at the cost of parallelism and latency.
	Chunksize int

	// Buffer is the most tasks Map keeps submitted but not yet yielded,
	// which bounds both the items read ahead of the consumer and the results
	// held for it. 0 means twice the executor's MaxWorkers for the pools of
	// this package, 64 for other executors. A Buffer below the number of
	// workers leaves workers idle.
	Buffer int
}

// Map returns an iterator that runs fn on each of items through ex, and
// yields (result, error) pairs in the order of items, while later items
// still run. It is Python's Executor.map, streamed.
//
// Items are read lazily: at most o.Buffer tasks of o.Chunksize items each
// are submitted and not yet yielded, so a long (or endless) sequence never
// sits in memory. Each task runs with a context derived from ctx that
// carries the worker's name and ID, and that is cancelled when the iterator
// returns.
//
// The error fn returns for an item is yielded with that item, and Map goes
// on: the caller decides whether to stop. A panic in fn is yielded as that
// item's [*PanicError]. If ex refuses a task (ErrShutdown, a Broken error),
// Map yields the results already submitted, then that error, and stops.
//
// When ctx ends before every result is yielded, Map cancels the tasks that
// have not started, yields (zero, err) once, with err matching
// future.ErrTimeout and the context's error, and stops. If the consumer
// stops early (break), Map cancels the tasks that have not started and
// returns at once; running tasks see their context cancelled. Map starts no
// goroutine of its own. A result that is already done is yielded even
// after ctx has ended.
//
// Ranging over the iterator more than once ranges over items again.
func Map[In, Out any](ctx context.Context, ex Executor[Out], fn func(context.Context, In) (Out, error), items iter.Seq[In], o MapOptions) iter.Seq2[Out, error] {
	size := max(o.Chunksize, 1)
	buffer := o.Buffer
	if buffer <= 0 {
		buffer = 64
		if s, ok := ex.(sizer); ok {
			buffer = 2 * s.maxWorkers()
		}
	}
	return func(yield func(Out, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		m := &mapping[In, Out]{ctx: ctx, ex: ex, fn: fn, yield: yield}
		defer func() {
			for _, c := range m.pending {
				c.f.Cancel()
			}
			cancel()
		}()

		batch := make([]In, 0, size)
		for x := range items {
			if ctx.Err() != nil {
				m.timeout(nil)
				return
			}
			batch = append(batch, x)
			if len(batch) < size {
				continue
			}
			if !m.submit(batch) {
				return
			}
			if size > 1 {
				batch = make([]In, 0, size) // the task keeps the old one
			} else {
				batch = batch[:0]
			}
			for len(m.pending) >= buffer {
				if !m.next() {
					return
				}
			}
		}
		if len(batch) > 0 && !m.submit(batch) {
			return
		}
		for len(m.pending) > 0 {
			if !m.next() {
				return
			}
		}
	}
}

// mapping is the state of one range over a Map iterator. It lives in the
// consumer's goroutine; the tasks write only their own chunk, which mapping
// reads after the chunk's future is done.
type mapping[In, Out any] struct {
	ctx     context.Context
	ex      Executor[Out]
	fn      func(context.Context, In) (Out, error)
	yield   func(Out, error) bool
	pending []*chunk[In, Out] // submitted, not yet yielded, in input order
}

// chunk is one task of a Map: one item, whose result is the future's, or
// several, whose results the task stores in out and errs.
type chunk[In, Out any] struct {
	f     *future.Future[Out]
	items []In    // nil for a task of one item
	out   []Out   // out[i], errs[i]: the result of items[i], once i < ran
	errs  []error //
	ran   int     // items the task has run
}

// submit submits a task for batch; on a refusal it yields what is pending,
// then the error, and returns false.
func (m *mapping[In, Out]) submit(batch []In) bool {
	c := &chunk[In, Out]{}
	var task Task[Out]
	if len(batch) == 1 {
		x, fn := batch[0], m.fn
		task = func(ctx context.Context) (Out, error) { return fn(ctx, x) }
	} else {
		c.items, c.out, c.errs = batch, make([]Out, len(batch)), make([]error, len(batch))
		task = c.run(m.fn)
	}
	f, err := m.ex.Submit(m.ctx, task)
	if err != nil {
		for len(m.pending) > 0 {
			if !m.next() {
				return false
			}
		}
		var zero Out
		m.yield(zero, err)
		return false
	}
	c.f = f
	m.pending = append(m.pending, c)
	return true
}

// run returns the task of a chunk of several items: fn on each in order,
// each panic caught as that item's error, until the task's context ends.
func (c *chunk[In, Out]) run(fn func(context.Context, In) (Out, error)) Task[Out] {
	return func(ctx context.Context) (Out, error) {
		var zero Out
		for i, x := range c.items {
			if err := ctx.Err(); err != nil {
				return zero, err
			}
			c.out[i], c.errs[i] = catch(func() (Out, error) { return fn(ctx, x) })
			c.ran = i + 1
		}
		return zero, nil
	}
}

// next waits for the oldest pending task and yields its results. It returns
// false when Map must stop: the consumer broke off, or ctx ended first.
func (m *mapping[In, Out]) next() bool {
	c := m.pending[0]
	if err := c.f.Err(m.ctx); err != nil && !c.f.Done() {
		return m.timeout(err)
	}
	m.pending[0] = nil
	m.pending = m.pending[1:]
	v, err := c.f.Result(context.Background()) // done: does not block
	if c.items == nil {
		return m.yield(v, err)
	}
	for i := range c.items {
		if i >= c.ran { // never ran: the task failed, or was cancelled
			var zero Out
			if !m.yield(zero, err) {
				return false
			}
			continue
		}
		if !m.yield(c.out[i], c.errs[i]) {
			return false
		}
	}
	return true
}

// timeout yields the error of a ctx that ended (err, or one made here when
// nil) and returns false; the caller's deferred function cancels what is
// pending.
func (m *mapping[In, Out]) timeout(err error) bool {
	if err == nil {
		err = fmt.Errorf("%w: %w", future.ErrTimeout, context.Cause(m.ctx))
	}
	var zero Out
	m.yield(zero, err)
	return false
}
