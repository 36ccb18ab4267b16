package future

import (
	"context"
	"fmt"
	"iter"
	"sync"
)

// ReturnWhen says when Wait returns.
type ReturnWhen int

// The conditions of Wait, as Python's wait(return_when=...).
const (
	// FirstCompleted: as soon as any future is done (finished or
	// cancelled), counting those already done when Wait is called.
	FirstCompleted ReturnWhen = iota
	// FirstException: as soon as any future finishes with an error; if none
	// does, when all are done, as AllCompleted. A cancelled future is done
	// but is not an exception.
	FirstException
	// AllCompleted: when every future is done.
	AllCompleted
)

// String returns Python's name of the condition: "FIRST_COMPLETED",
// "FIRST_EXCEPTION" or "ALL_COMPLETED"; "ReturnWhen(N)" for any other
// value.
func (r ReturnWhen) String() string {
	switch r {
	case FirstCompleted:
		return "FIRST_COMPLETED"
	case FirstException:
		return "FIRST_EXCEPTION"
	case AllCompleted:
		return "ALL_COMPLETED"
	}
	return fmt.Sprintf("ReturnWhen(%d)", int(r))
}

// Wait blocks until the futures in fs meet the condition when, or ctx ends,
// whichever comes first. It returns the futures split into done (finished
// or cancelled) and notDone (pending or running) as they are when it
// returns, each in the order of fs. Futures already done when Wait is
// called count at once; if they meet the condition, Wait returns without
// blocking. An empty fs returns at once.
//
// Wait returns no error: when ctx ends first, it returns what is done by
// then, and the caller tells a timeout from ctx.Err() or a non-empty
// notDone.
//
// fs is a set, as in Python: a future listed more than once is waited on
// once and appears once in done or notDone, at its first position. The
// futures may come from different executors. A nil future in fs panics, as
// does a when that is not one of the three conditions.
//
// Wait starts no goroutine: it registers a waiter on each future not yet
// done, which the future signals when it completes, and removes it before
// it returns.
func Wait[T any](ctx context.Context, fs []*Future[T], when ReturnWhen) (done, notDone []*Future[T]) {
	if when < FirstCompleted || when > AllCompleted {
		panic(fmt.Sprintf("future: Wait with an invalid ReturnWhen: %v", when))
	}
	fs = unique(fs)
	nDone, failed := 0, false
	met := func() bool {
		switch {
		case nDone == len(fs):
			return true
		case when == FirstCompleted:
			return nDone > 0
		case when == FirstException:
			return failed
		}
		return false
	}

	w := newWaiter[T]()
	var registered []*Future[T]
	defer func() {
		for _, f := range registered {
			f.removeWaiter(w)
		}
	}()
	for _, f := range fs {
		if met() {
			break
		}
		isDone, isFailed := f.addWaiter(w)
		if !isDone {
			registered = append(registered, f)
			continue
		}
		nDone++
		failed = failed || isFailed
	}

	var spare []*Future[T]
wait:
	for !met() {
		select {
		case <-w.wake:
			got := w.take(spare)
			for _, f := range got {
				nDone++
				failed = failed || f.failed()
			}
			spare = got
		case <-ctx.Done():
			break wait
		}
	}

	for _, f := range fs {
		if f.Done() {
			done = append(done, f)
		} else {
			notDone = append(notDone, f)
		}
	}
	return done, notDone
}

// AsCompleted returns an iterator over the futures in fs as they complete:
// first those already done when the iteration starts, in the order of fs,
// then the others in the order they complete (finish or are cancelled).
// Each is yielded once, with a nil error; read its outcome with Result or
// Err, which do not block then.
//
// Each step blocks until the next future is done or ctx ends. When ctx ends
// first, the iterator yields the futures done by then, then, once, a nil
// future and an error matching ErrTimeout (and the context's cause) that
// says how many are unfinished, and stops.
//
// fs is a set, as in Python: a future listed more than once is yielded
// once. AsCompleted copies fs; a nil future in fs panics. The consumer may
// stop early (break): nothing is left behind. AsCompleted starts no
// goroutine: each iteration registers a waiter on the futures not yet done,
// which they signal in completion order, and removes it when it stops.
func AsCompleted[T any](ctx context.Context, fs []*Future[T]) iter.Seq2[*Future[T], error] {
	fs = unique(fs)
	return func(yield func(*Future[T], error) bool) {
		w := newWaiter[T]()
		var finished, registered []*Future[T]
		defer func() {
			for _, f := range registered {
				f.removeWaiter(w)
			}
		}()
		for _, f := range fs {
			if isDone, _ := f.addWaiter(w); isDone {
				finished = append(finished, f)
			} else {
				registered = append(registered, f)
			}
		}
		for _, f := range finished {
			if !yield(f, nil) {
				return
			}
		}

		unfinished := len(registered)
		var spare []*Future[T]
		for unfinished > 0 {
			timedOut := false
			select {
			case <-w.wake:
			case <-ctx.Done():
				timedOut = true
			}
			got := w.take(spare)
			for _, f := range got {
				unfinished--
				if !yield(f, nil) {
					return
				}
			}
			spare = got
			if timedOut && unfinished > 0 {
				yield(nil, timeoutError(ctx, fmt.Sprintf("%d (of %d) futures unfinished", unfinished, len(fs))))
				return
			}
		}
	}
}

// unique returns a copy of fs without its duplicates, keeping the first of
// each. It panics on a nil future.
func unique[T any](fs []*Future[T]) []*Future[T] {
	out := make([]*Future[T], 0, len(fs))
	seen := make(map[*Future[T]]struct{}, len(fs))
	for _, f := range fs {
		if f == nil {
			panic("future: nil *Future in the futures to wait on")
		}
		if _, dup := seen[f]; !dup {
			seen[f] = struct{}{}
			out = append(out, f)
		}
	}
	return out
}

// waiter collects the futures that complete while a Wait or AsCompleted
// call is registered on them, in completion order, as CPython's _Waiter.
// A future signals each of its waiters once, when it completes.
type waiter[T any] struct {
	mu       sync.Mutex
	finished []*Future[T]  // guarded by mu: completed since the last take
	wake     chan struct{} // holds a token when finished may be non-empty
}

func newWaiter[T any]() *waiter[T] {
	return &waiter[T]{wake: make(chan struct{}, 1)}
}

// add records that f completed and wakes the waiting goroutine. It never
// blocks.
func (w *waiter[T]) add(f *Future[T]) {
	w.mu.Lock()
	w.finished = append(w.finished, f)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a token is already there
	}
}

// take returns the futures completed since the last take, in completion
// order, and hands w the slice spare, emptied, to fill next (so a caller
// that alternates two slices allocates no more once they are grown).
func (w *waiter[T]) take(spare []*Future[T]) []*Future[T] {
	clear(spare)
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.finished
	w.finished = spare[:0]
	return got
}
