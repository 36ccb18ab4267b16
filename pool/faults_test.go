package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/futures-cli/futures/future"
)

// TestFaultPanicsAndRacingCancelsUnderLoad: thousands of tasks, one in ten
// panicking, others cancelled from several goroutines while they are
// pending or running, and Wait and AsCompleted watching all of them at
// once: every future ends exactly once with the right outcome (a panic is
// a *PanicError carrying its value), the waits see each of them, the pool
// goes on taking work, and no goroutine is left after Shutdown.
func TestFaultPanicsAndRacingCancelsUnderLoad(t *testing.T) {
	noLeak(t)
	const n = 5000
	p := NewThreadPool[int](Options{MaxWorkers: 8})
	defer shutdown(t, p)

	// Submit contexts: one in seventeen is cancelled before or while its
	// task is reached.
	submitCtx, cancelSubmit := context.WithCancel(context.Background())
	defer cancelSubmit()

	fs := make([]*future.Future[int], n)
	for i := range fs {
		ctx := context.Background()
		if i%17 == 0 {
			ctx = submitCtx
		}
		f, err := p.Submit(ctx, func(ctx context.Context) (int, error) {
			runtime.Gosched()
			switch i % 10 {
			case 3:
				panic(fmt.Sprintf("boom %d", i))
			case 7:
				panic(fmt.Errorf("error boom %d", i))
			}
			return i, nil
		})
		if err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		fs[i] = f
	}

	ctx := ctxTimeout(t)
	var wg sync.WaitGroup
	for c := range 4 { // cancellers racing the workers
		wg.Go(func() {
			for i := c; i < n; i += 4 {
				if i%5 == 1 {
					fs[i].Cancel()
				}
				if i == n/2 && c == 0 {
					cancelSubmit()
				}
			}
		})
	}
	wg.Go(func() {
		seen := make(map[*future.Future[int]]int, n)
		for f, err := range future.AsCompleted(ctx, fs) {
			if err != nil {
				t.Errorf("AsCompleted: %v", err)
				return
			}
			seen[f]++
		}
		if len(seen) != n {
			t.Errorf("AsCompleted yielded %d futures, want %d", len(seen), n)
		}
		for _, c := range seen {
			if c != 1 {
				t.Errorf("AsCompleted yielded a future %d times", c)
				return
			}
		}
	})
	wg.Go(func() {
		done, _ := future.Wait(ctx, fs, future.FirstException)
		failed := false
		for _, f := range done {
			if f.Done() && !f.Cancelled() {
				if _, err := f.Result(ctx); err != nil {
					failed = true
				}
			}
		}
		if !failed {
			t.Errorf("Wait(FIRST_EXCEPTION) returned %d done futures, none failed", len(done))
		}
	})
	wg.Go(func() {
		if _, notDone := future.Wait(ctx, fs, future.AllCompleted); len(notDone) != 0 {
			t.Errorf("Wait(ALL_COMPLETED) left %d not done", len(notDone))
		}
	})
	wg.Wait()

	var ran, panicked, cancelled int
	for i, f := range fs {
		v, err := f.Result(ctx)
		var pe *PanicError
		switch {
		case errors.Is(err, future.ErrCancelled):
			if !f.Cancelled() {
				t.Errorf("future %d: ErrCancelled but not Cancelled()", i)
			}
			cancelled++
		case errors.As(err, &pe):
			panicked++
			want := fmt.Sprintf("boom %d", i)
			if i%10 == 7 {
				want = "error " + want
			}
			if i%10 != 3 && i%10 != 7 || fmt.Sprint(pe.Value) != want {
				t.Errorf("future %d: panic %v, want %q", i, pe.Value, want)
			}
		case err != nil:
			if i%17 != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("future %d: %v", i, err)
			}
			cancelled++
		default:
			ran++
			if v != i || i%10 == 3 || i%10 == 7 {
				t.Errorf("future %d: value %d", i, v)
			}
		}
	}
	if ran+panicked+cancelled != n || panicked == 0 || ran == 0 {
		t.Errorf("%d ran, %d panicked, %d cancelled; want %d in all, some of each", ran, panicked, cancelled, n)
	}
	t.Logf("%d ran, %d panicked, %d cancelled", ran, panicked, cancelled)

	// The pool goes on.
	f := submit(t, p, func(context.Context) (int, error) { return 42, nil })
	if v, err := result(t, f); v != 42 || err != nil {
		t.Errorf("after the storm: %v, %v", v, err)
	}
}
