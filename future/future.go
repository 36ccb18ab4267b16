// Package future provides Future[T], the pending result of a job, and the
// functions Wait and AsCompleted that wait on many futures at once. It
// follows the model of Python's concurrent.futures.
//
// An executor creates a Future with New when a job is submitted and hands it
// to the caller. A Future starts PENDING. Before it runs the job, the
// executor calls SetRunningOrNotifyCancel, which moves the future to RUNNING
// (or tells the executor that the caller cancelled it meanwhile, so the job
// must not run). When the job ends, the executor calls SetResult or
// SetException, which moves the future to FINISHED. While a future is still
// PENDING, the caller may Cancel it, which moves it to CANCELLED. CANCELLED
// and FINISHED are final: a future in either state is done and never changes
// again.
//
//	PENDING ── SetRunningOrNotifyCancel ──▶ RUNNING ── SetResult, SetException ──▶ FINISHED
//	PENDING ── SetResult, SetException ──▶ FINISHED
//	PENDING ── Cancel ──▶ CANCELLED
//
// Every wait takes a context.Context: Result, Err, Wait and AsCompleted block
// until the futures they wait on are done or ctx ends, whichever comes first.
// When ctx ends first they report ErrTimeout and leave every future as it
// was.
//
// Completing a future (SetResult, SetException or Cancel) first wakes every
// goroutine waiting on it, then runs its done callbacks in the order they
// were added, in the goroutine that completed it, after the future's lock is
// released.
//
// All methods and functions are safe for concurrent use. Waiting costs no
// goroutines: Wait and AsCompleted register one waiter on each future that
// is not yet done, which the future signals when it completes (as CPython's
// _Waiter), and remove it before they return.
//
// Where Go and Python differ:
//   - A cancelled future is done at once, for Wait and AsCompleted too.
//     Python reports a future cancelled by cancel() as not done to wait and
//     as_completed until the executor has called
//     set_running_or_notify_cancel on it (CANCELLED_AND_NOTIFIED), so a
//     future the executor never reaches again (one cancelled by
//     shutdown(cancel_futures=True)) is never done for them; here Done,
//     Result, Wait and AsCompleted all agree.
//   - Wait and AsCompleted treat fs as a set, as Python does, but return
//     slices: a future listed twice is waited on, returned and yielded once.
//   - SetException(nil) finishes the future with an error of its own, rather
//     than with no error: a job that failed must not look successful.
package future

import (
	"context"
	"errors"
	"fmt"
	"log"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// State is where a Future is in its life: Pending, Running, Cancelled or
// Finished. Cancelled and Finished are final.
type State int

// The states of a Future, as in Python's concurrent.futures.
const (
	// Pending: created, its job not yet started; it may still be cancelled.
	Pending State = iota
	// Running: its job has started; it can no longer be cancelled.
	Running
	// Cancelled: cancelled before its job started. Final.
	Cancelled
	// Finished: its job ended with a result or an error. Final.
	Finished
)

// String returns the state's name in Python's words: "PENDING", "RUNNING",
// "CANCELLED" or "FINISHED"; "State(N)" for any other value.
func (s State) String() string {
	switch s {
	case Pending:
		return "PENDING"
	case Running:
		return "RUNNING"
	case Cancelled:
		return "CANCELLED"
	case Finished:
		return "FINISHED"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText returns the state's name, as String does, so a State reads
// as "FINISHED" in JSON and other text encodings.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a state's name, as MarshalText writes it; any
// other text is an error matching ErrInvalidState.
func (s *State) UnmarshalText(text []byte) error {
	for st := Pending; st <= Finished; st++ {
		if string(text) == st.String() {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not a state", ErrInvalidState, text)
}

// done reports whether s is final (Cancelled or Finished).
func (s State) done() bool { return s == Cancelled || s == Finished }

// Sentinel errors, matched with errors.Is.
var (
	// ErrCancelled is returned by Result and Err for a cancelled future
	// (Python's CancelledError).
	ErrCancelled = errors.New("future: cancelled")
	// ErrTimeout is matched by the error returned when the context of a wait
	// ends before the futures are done (Python's TimeoutError). That error
	// also wraps the context's cause, so errors.Is(err,
	// context.DeadlineExceeded) or errors.Is(err, context.Canceled) holds as
	// well.
	ErrTimeout = errors.New("future: timeout")
	// ErrInvalidState is matched by the error of SetResult or SetException on
	// a future that is already done, and by the panic of
	// SetRunningOrNotifyCancel when it is misused (Python's
	// InvalidStateError).
	ErrInvalidState = errors.New("future: invalid state")
)

// timeoutError is the error of a wait whose ctx ended first: it matches
// ErrTimeout and the context's cause.
func timeoutError(ctx context.Context, detail string) error {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return ErrTimeout
	case detail == "":
		return fmt.Errorf("%w: %w", ErrTimeout, cause)
	default:
		return fmt.Errorf("%w: %s: %w", ErrTimeout, detail, cause)
	}
}

// errNilException is the error of a future finished with SetException(nil).
var errNilException = errors.New("future: SetException called with a nil error")

// Future is the result of a job that may not have run yet. An executor
// creates it with New and completes it with SetRunningOrNotifyCancel and
// SetResult or SetException; the caller reads it with Result or Err, waits
// on many with Wait or AsCompleted, and may Cancel it while it is pending.
//
// All methods are safe for concurrent use. Result and Err block until the
// future is done or their context ends; no other method blocks, except
// that SetResult, SetException and Cancel run the done callbacks before
// they return. A Future must not be copied after first use; its zero value
// is a pending future, the same as New returns.
type Future[T any] struct {
	// mu guards every field below. The value, err and final state are
	// written once, under mu, before done is closed; a reader that has seen
	// done closed still takes mu to read them.
	mu        sync.Mutex
	state     State
	notified  bool // Cancelled and SetRunningOrNotifyCancel has reported it
	value     T
	err       error
	done      chan struct{}      // closed when the state becomes final; made lazily
	callbacks []func(*Future[T]) // to run on completion, in order; nil once done
	waiters   []*waiter[T]       // Wait and AsCompleted calls to signal; nil once done
}

// New returns a new pending future.
func New[T any]() *Future[T] { return new(Future[T]) }

// State returns the future's state at the time of the call.
func (f *Future[T]) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Cancelled reports whether the future was cancelled.
func (f *Future[T]) Cancelled() bool { return f.State() == Cancelled }

// Running reports whether the future's job is running now.
func (f *Future[T]) Running() bool { return f.State() == Running }

// Done reports whether the future is done: cancelled or finished.
func (f *Future[T]) Done() bool { return f.State().done() }

// Ready returns a channel that is closed when the future is done (cancelled
// or finished), for use in a select beside other channels and ctx.Done().
// Every call returns the same channel. Done stays Python's done(): a
// snapshot; Ready is the Go way to wait for it.
func (f *Future[T]) Ready() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.doneChanLocked()
}

// Cancel cancels the future if its job has not started. It returns true if
// the future was pending (and is now cancelled, its waiters woken and its
// callbacks run before Cancel returns) or was already cancelled, and false
// if the job is running or has finished, which Cancel cannot undo.
func (f *Future[T]) Cancel() bool {
	f.mu.Lock()
	switch f.state {
	case Pending:
		f.state = Cancelled
		f.completeAndUnlock()
		return true
	case Cancelled:
		f.mu.Unlock()
		return true
	default:
		f.mu.Unlock()
		return false
	}
}

// Result waits until the future is done or ctx ends, whichever comes first.
// It returns the job's value and nil; or the zero value and the job's error
// (exactly the error given to SetException); or ErrCancelled if the future
// was cancelled; or, when ctx ends first, an error matching ErrTimeout, the
// future unchanged. A future that is already done returns its outcome even
// if ctx has ended.
func (f *Future[T]) Result(ctx context.Context) (T, error) {
	var zero T
	if err := f.wait(ctx); err != nil {
		return zero, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == Cancelled {
		return zero, ErrCancelled
	}
	if f.err != nil {
		return zero, f.err
	}
	return f.value, nil
}

// Err waits as Result does, and returns the job's error, or nil if the job
// succeeded; ErrCancelled if the future was cancelled; or, when ctx ends
// first, an error matching ErrTimeout. It is Python's exception().
func (f *Future[T]) Err(ctx context.Context) error {
	_, err := f.Result(ctx)
	return err
}

// wait blocks until f is done (nil) or ctx ends first (an ErrTimeout error).
func (f *Future[T]) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.state.done() {
		f.mu.Unlock()
		return nil
	}
	done := f.doneChanLocked()
	f.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		select {
		case <-done: // both ready: the outcome wins
			return nil
		default:
			return timeoutError(ctx, "")
		}
	}
}

// AddDoneCallback arranges for fn(f) to run when the future is done. The
// callbacks run in the order they were added, in the goroutine that
// completes the future, after its lock is released (so fn may call any
// method of f). If the future is already done, fn runs at once, in the
// caller's goroutine, before AddDoneCallback returns. A panic in fn is
// recovered and logged (see SetLogger); the other callbacks still run.
func (f *Future[T]) AddDoneCallback(fn func(*Future[T])) {
	f.mu.Lock()
	if !f.state.done() {
		f.callbacks = append(f.callbacks, fn)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	f.runCallback(fn)
}

// SetRunningOrNotifyCancel is for executors: call it exactly once per
// future, just before running its job. It returns true if the future was
// pending and is now running: run the job, then call SetResult or
// SetException. It returns false if the future was cancelled: do not run
// the job. The future's waiters were already woken by Cancel.
//
// Calling it on a future that is running or finished, or a second time on a
// cancelled one, is a bug in the executor, not a condition to handle: it
// panics with an error matching ErrInvalidState, as Python raises
// RuntimeError.
func (f *Future[T]) SetRunningOrNotifyCancel() bool {
	f.mu.Lock()
	switch {
	case f.state == Pending:
		f.state = Running
		f.mu.Unlock()
		return true
	case f.state == Cancelled && !f.notified:
		f.notified = true
		f.mu.Unlock()
		return false
	}
	state, again := f.state, f.notified
	f.mu.Unlock()
	if again {
		panic(fmt.Errorf("%w: SetRunningOrNotifyCancel called twice on a cancelled future", ErrInvalidState))
	}
	panic(fmt.Errorf("%w: SetRunningOrNotifyCancel called on a %v future", ErrInvalidState, state))
}

// SetResult is for executors: it finishes the future with the value v,
// wakes its waiters and runs its callbacks before it returns. The future
// may be pending or running. If it is already done (finished or cancelled)
// SetResult changes nothing and returns an error matching ErrInvalidState.
func (f *Future[T]) SetResult(v T) error {
	f.mu.Lock()
	if f.state.done() {
		state := f.state
		f.mu.Unlock()
		return fmt.Errorf("%w: SetResult on a %v future", ErrInvalidState, state)
	}
	f.value, f.state = v, Finished
	f.completeAndUnlock()
	return nil
}

// SetException is for executors: it finishes the future with the job's
// error err, wakes its waiters and runs its callbacks before it returns;
// Result and Err then return err itself. The future may be pending or
// running. If it is already done SetException changes nothing and returns
// an error matching ErrInvalidState.
//
// A nil err still finishes the future as failed, with an error saying that
// SetException was called with a nil error: the job failed, and nil would
// make it look successful. Use SetResult for a job that succeeded.
func (f *Future[T]) SetException(err error) error {
	if err == nil {
		err = errNilException
	}
	f.mu.Lock()
	if f.state.done() {
		state := f.state
		f.mu.Unlock()
		return fmt.Errorf("%w: SetException on a %v future", ErrInvalidState, state)
	}
	f.err, f.state = err, Finished
	f.completeAndUnlock()
	return nil
}

// completeAndUnlock is called with f.mu held, just after the state became
// final. It closes done, releases f.mu, signals the waiters and runs the
// callbacks.
func (f *Future[T]) completeAndUnlock() {
	if f.done == nil {
		f.done = closedChan
	} else {
		close(f.done)
	}
	waiters, callbacks := f.waiters, f.callbacks
	f.waiters, f.callbacks = nil, nil
	f.mu.Unlock()
	for _, w := range waiters {
		w.add(f)
	}
	for _, fn := range callbacks {
		f.runCallback(fn)
	}
}

// doneChanLocked returns the channel closed when f is done, making it if
// needed. f.mu must be held.
func (f *Future[T]) doneChanLocked() chan struct{} {
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

// closedChan is the done channel of a future completed before anyone
// waited on it: most futures never need a channel of their own.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// addWaiter registers w to be signalled when f completes, unless f is
// already done; then it reports done, and whether f finished with an error.
func (f *Future[T]) addWaiter(w *waiter[T]) (done, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.done() {
		return true, f.state == Finished && f.err != nil
	}
	f.waiters = append(f.waiters, w)
	return false, false
}

// removeWaiter unregisters w, if f has not signalled it yet.
func (f *Future[T]) removeWaiter(w *waiter[T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.waiters {
		if x == w {
			last := len(f.waiters) - 1
			f.waiters[i] = f.waiters[last]
			f.waiters[last] = nil
			f.waiters = f.waiters[:last]
			return
		}
	}
}

// failed reports whether f finished with an error.
func (f *Future[T]) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state == Finished && f.err != nil
}

// runCallback calls fn(f), logging a panic instead of propagating it.
func (f *Future[T]) runCallback(fn func(*Future[T])) {
	defer func() {
		if r := recover(); r != nil {
			logger().Printf("future: exception calling done callback for a %v future: %v\n%s", f.State(), r, debug.Stack())
		}
	}()
	fn(f)
}

var customLogger atomic.Pointer[log.Logger]

// SetLogger sets the logger that reports panics in done callbacks; nil
// restores the default, log.Default(). It is safe to call at any time.
func SetLogger(l *log.Logger) { customLogger.Store(l) }

func logger() *log.Logger {
	if l := customLogger.Load(); l != nil {
		return l
	}
	return log.Default()
}
