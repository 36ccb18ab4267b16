package pool

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/futures-cli/futures/future"
)

// A task that goes on without its worker (Later) holds the worker until it
// settles its future, from another goroutine, and no goroutine meanwhile:
// with one worker, the next task waits for that settle, and a hundred such
// tasks in a pool of a hundred hold a hundred workers and no goroutine.
func TestALaterTaskHoldsItsWorkerAndNoGoroutine(t *testing.T) {
	noLeak(t)
	const n = 100
	p := NewThreadPool[int](Options{MaxWorkers: n})
	before := runtime.NumGoroutine()
	settles := make(chan func(int, error), n)
	futs := make([]*future.Future[int], 0, n)
	for range n {
		f := submit(t, p, func(ctx context.Context) (int, error) {
			settle, ok := Later[int](ctx)
			if !ok {
				return -1, errors.New("Later refused in a ThreadPool's task")
			}
			settles <- settle
			return -2, nil // ignored: settle settles it
		})
		futs = append(futs, f)
	}
	var all []func(int, error)
	for range n {
		all = append(all, <-settles)
	}
	waitFor(t, "the workers' goroutines to have gone", func() bool {
		started, workers, idle := p.counts()
		return started == n && workers == n && idle == 0 && runtime.NumGoroutine()-before <= n/10
	})
	for _, f := range futs {
		if f.Done() {
			t.Fatal("a Later task's future was settled by its return")
		}
	}
	// One more task waits: every worker is busy.
	next := submit(t, p, func(context.Context) (int, error) { return 7, nil })
	if started, _, _ := p.counts(); started != n {
		t.Errorf("%d workers started for a pool of %d", started, n)
	}
	for i, settle := range all {
		go settle(i, nil)
	}
	if v, err := result(t, next); v != 7 || err != nil {
		t.Errorf("the next task: %d, %v", v, err)
	}
	seen := map[int]bool{}
	for _, f := range futs {
		v, err := result(t, f)
		if err != nil || v < 0 || v >= n || seen[v] {
			t.Errorf("a Later task's future: %d, %v", v, err)
		}
		seen[v] = true
	}
	shutdown(t, p)
}

// A settle before the task returns settles the future when it returns; an
// error the task returns after Later settles it with that error, and the
// settle that comes after does nothing.
func TestLaterSettledEarlyOrOverriddenByAnError(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 2})
	early := submit(t, p, func(ctx context.Context) (int, error) {
		settle, _ := Later[int](ctx)
		settle(5, nil)
		settle(6, nil) // once only
		return -1, nil
	})
	if v, err := result(t, early); v != 5 || err != nil {
		t.Errorf("settled before the return: %d, %v; want 5", v, err)
	}
	boom := errors.New("boom")
	var late func(int, error)
	failed := submit(t, p, func(ctx context.Context) (int, error) {
		late, _ = Later[int](ctx)
		return 0, boom
	})
	if _, err := result(t, failed); !errors.Is(err, boom) {
		t.Errorf("an error after Later: %v; want boom", err)
	}
	late(9, nil) // does nothing
	if v, err := result(t, failed); v != 0 || !errors.Is(err, boom) {
		t.Errorf("after a late settle: %d, %v; want the error still", v, err)
	}
	shutdown(t, p)
}

// Outside a ThreadPool's task, Later says no.
func TestLaterOutsideAThreadPoolTask(t *testing.T) {
	if settle, ok := Later[int](context.Background()); ok || settle != nil {
		t.Error("Later outside a task said yes")
	}
}

// Shutdown with Wait waits for a Later task's settle.
func TestShutdownWaitsForALaterTask(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	f, settle := submitLater(t, p)
	stopped := make(chan error, 1)
	go func() { stopped <- p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true}) }()
	waitFor(t, "the worker's goroutine to have gone", func() bool {
		_, workers, idle := p.counts()
		return workers == 1 && idle == 0
	})
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) before the Later task settled", err)
	default:
	}
	settle(3, nil)
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if v, err := result(t, f); v != 3 || err != nil {
		t.Errorf("the Later task: %d, %v", v, err)
	}
}

// Shutdown with Wait returns only once a Later task's future is settled,
// as for any task: the goroutine its worker gets again on settle must not
// exit, and let Shutdown return, before settle has set the future.
func TestShutdownReturnsAfterALaterTaskIsSettled(t *testing.T) {
	noLeak(t)
	for i := range 2000 {
		p := NewThreadPool[int](Options{MaxWorkers: 1})
		f, settle := submitLater(t, p)
		_ = p.Shutdown(context.Background(), ShutdownOptions{}) // no more tasks: resume's next says exit
		done := make(chan bool, 1)
		go func() {
			_ = p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true})
			done <- f.Done()
		}()
		waitFor(t, "the worker's goroutine to have gone", func() bool {
			_, workers, idle := p.counts()
			return workers == 1 && idle == 0
		})
		go settle(i, nil)
		if !<-done {
			t.Fatalf("round %d: Shutdown returned before the Later task's future was settled", i)
		}
	}
}

// A task of a second ThreadPool, submitted with a context from a task of
// the first, gets its own Later, not the first task's.
func TestLaterIsTheTasksOwnInANestedPool(t *testing.T) {
	noLeak(t)
	outer := NewThreadPool[int](Options{MaxWorkers: 1})
	inner := NewThreadPool[int](Options{MaxWorkers: 1})
	f := submit(t, outer, func(ctx context.Context) (int, error) {
		g, err := inner.Submit(ctx, func(ictx context.Context) (int, error) {
			settle, ok := Later[int](ictx)
			if !ok {
				return -1, errors.New("no Later in the inner task")
			}
			settle(2, nil)
			return 0, nil
		})
		if err != nil {
			return -1, err
		}
		return g.Result(ctx)
	})
	if v, err := result(t, f); v != 2 || err != nil {
		t.Errorf("the outer task: %d, %v; want the inner one's 2", v, err)
	}
	shutdown(t, inner)
	shutdown(t, outer)
}

// submitLater submits a task that goes on without its worker (Later) and
// returns its future and its settle, once the task has asked for it.
func submitLater(t *testing.T, p *ThreadPool[int]) (*future.Future[int], func(int, error)) {
	t.Helper()
	settles := make(chan func(int, error), 1)
	f := submit(t, p, func(ctx context.Context) (int, error) {
		settle, _ := Later[int](ctx)
		settles <- settle
		return 0, nil
	})
	return f, <-settles
}
