// Package pool runs tasks on executors, the way Python's concurrent.futures
// does: an [Executor] takes a [Task], queues it and hands back a
// [future.Future] that the caller waits on (Result, [future.Wait],
// [future.AsCompleted]); [Map] streams a function over a sequence through an
// executor and yields the results in input order.
//
// [ThreadPool] is the executor whose workers are goroutines. Workers are
// started lazily, at most [Options.MaxWorkers] of them; each is named
// PREFIX_N ([WorkerName], [WorkerID]) and runs [Options.Initializer] once
// before its first task. A failing initializer breaks the pool: its pending
// futures fail with an error matching [ErrBrokenThreadPool] and [ErrBroken],
// and Submit refuses new work.
//
// Every goroutine a pool starts is waited for by Shutdown with
// [ShutdownOptions.Wait] set; a program that shuts its pools down that way
// leaves no goroutine behind.
package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/internal/wire"
)

// Task is the unit of work an [Executor] runs: a function of the context
// derived from the one given to Submit. Its value or its error becomes the
// result of the task's future; when it returns both, the error wins.
type Task[T any] func(ctx context.Context) (T, error)

// Executor runs tasks and hands back a future for each, as Python's
// concurrent.futures.Executor does. [ThreadPool] implements it.
type Executor[T any] interface {
	// Submit queues t and returns its future at once; it does not wait for
	// t to start. After Shutdown it returns ErrShutdown; once the executor is
	// broken, an error matching ErrBroken.
	Submit(ctx context.Context, t Task[T]) (*future.Future[T], error)

	// Shutdown stops the executor taking work; see ShutdownOptions. It may be
	// called more than once.
	Shutdown(ctx context.Context, o ShutdownOptions) error
}

// Options configures a pool. The zero value is a pool of runtime.NumCPU()
// workers named worker_0, worker_1, … with no initializer.
type Options struct {
	// MaxWorkers is the most workers the pool runs at once; 0 means
	// runtime.NumCPU(). A negative value makes the constructor panic.
	MaxWorkers int

	// NamePrefix names the workers PREFIX_0, PREFIX_1, …, numbered in the
	// order they start; "" means "worker".
	NamePrefix string

	// Initializer, if not nil, runs once in each worker before its first
	// task, with a context that carries the worker's name and ID. An error
	// (or a panic) breaks the pool.
	Initializer func(ctx context.Context) error
}

// ShutdownOptions says what Shutdown does with the work it finds.
type ShutdownOptions struct {
	// Wait makes Shutdown block until the running and pending tasks are done
	// and every worker has exited, or until its ctx ends.
	Wait bool

	// CancelFutures cancels every pending (not yet running) future first;
	// running tasks still finish.
	CancelFutures bool
}

// Errors of executors, matched with errors.Is.
var (
	// ErrShutdown is returned by Submit after Shutdown
	// (Python's RuntimeError "cannot schedule new futures after shutdown").
	ErrShutdown = errors.New("pool: cannot submit after shutdown")

	// ErrBroken matches the error of every broken executor
	// (Python's BrokenExecutor): an initializer failed, or a worker process
	// died without being asked to.
	ErrBroken = errors.New("pool: executor is broken")

	// ErrBrokenThreadPool matches the errors of a broken [ThreadPool]
	// (Python's BrokenThreadPool); it matches ErrBroken too.
	ErrBrokenThreadPool error = &brokenError{"pool: thread pool is broken"}

	// ErrBrokenProcessPool matches the errors of a broken process pool
	// (Python's BrokenProcessPool); it matches ErrBroken too.
	ErrBrokenProcessPool error = &brokenError{"pool: process pool is broken"}

	// ErrProtocol matches every error of a garbled, truncated or unexpected
	// frame of the worker protocol, and of a version mismatch.
	ErrProtocol = wire.ErrProtocol
)

// brokenError is a Broken sentinel of one executor kind that wraps ErrBroken.
type brokenError struct{ msg string }

func (e *brokenError) Error() string { return e.msg }
func (e *brokenError) Unwrap() error { return ErrBroken }

// PanicError is the error of a future whose task panicked (or whose
// initializer panicked, wrapped in the Broken error). The worker recovers the
// panic and goes on with the next task.
type PanicError struct {
	Value any    // the value given to panic
	Stack []byte // the stack of the panicking goroutine, as debug.Stack prints it
}

// Error returns the panic value followed by the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("pool: panic: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errGoexit fails the future of a task (or breaks the pool of an initializer)
// that called runtime.Goexit, as t.FailNow does.
var errGoexit = errors.New("pool: task called runtime.Goexit")

// catch calls fn and turns a panic into a *PanicError.
func catch[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// worker is who runs a task; the contexts of its tasks carry it.
type worker struct {
	id   int
	name string
}

// workerKey is the context key of the *worker running a task.
type workerKey struct{}

// WorkerName returns the name (PREFIX_N) of the worker running the task or
// initializer that ctx was given to, or "" outside of one.
func WorkerName(ctx context.Context) string {
	if w, ok := ctx.Value(workerKey{}).(*worker); ok {
		return w.name
	}
	return ""
}

// WorkerID returns the number N, from 0, of the worker running the task or
// initializer that ctx was given to, or -1 outside of one.
func WorkerID(ctx context.Context) int {
	if w, ok := ctx.Value(workerKey{}).(*worker); ok {
		return w.id
	}
	return -1
}

// sizer is implemented by the executors of this package, so that Map can size
// its default buffer to the pool.
type sizer interface {
	maxWorkers() int
}
