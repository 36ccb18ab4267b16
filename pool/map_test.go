package pool

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/futures-cli/futures/future"
)

// pair is one (value, error) that Map yielded.
type pair[T any] struct {
	v   T
	err error
}

// collect ranges over seq and returns what it yielded.
func collect[T any](seq iter.Seq2[T, error]) []pair[T] {
	var out []pair[T]
	for v, err := range seq {
		out = append(out, pair[T]{v, err})
	}
	return out
}

// count yields 0, 1, … n-1 (forever if n < 0) and counts what was read.
func count(n int, read *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; n < 0 || i < n; i++ {
			if read != nil {
				read.Add(1)
			}
			if !yield(i) {
				return
			}
		}
	}
}

func square(_ context.Context, i int) (int, error) { return i * i, nil }

// counting is an Executor that counts the tasks submitted to it, and
// refuses them with refuse after limit of them (if limit > 0).
type counting[T any] struct {
	Executor[T]
	submitted atomic.Int32
	limit     int32
	refuse    error
}

func (c *counting[T]) Submit(ctx context.Context, t Task[T]) (*future.Future[T], error) {
	if n := c.submitted.Add(1); c.limit > 0 && n > c.limit {
		return nil, c.refuse
	}
	return c.Executor.Submit(ctx, t)
}

func TestMapYieldsResultsInInputOrder(t *testing.T) {
	noLeak(t)
	for _, tc := range []struct{ n, chunksize, buffer, tasks int }{
		{n: 0, chunksize: 0, tasks: 0},
		{n: 100, chunksize: 0, tasks: 100},
		{n: 100, chunksize: 1, buffer: 1, tasks: 100},
		{n: 100, chunksize: 5, tasks: 20},
		{n: 101, chunksize: 7, buffer: 3, tasks: 15},
		{n: 3, chunksize: 10, tasks: 1},
	} {
		t.Run(fmt.Sprintf("%d items in chunks of %d, buffer %d, run as %d tasks", tc.n, tc.chunksize, tc.buffer, tc.tasks), func(t *testing.T) {
			p := NewThreadPool[int](Options{MaxWorkers: 4})
			defer shutdown(t, p)
			ex := &counting[int]{Executor: p}
			got := collect(Map(context.Background(), ex, square, count(tc.n, nil), MapOptions{Chunksize: tc.chunksize, Buffer: tc.buffer}))
			if len(got) != tc.n {
				t.Fatalf("Map yielded %d results; want %d", len(got), tc.n)
			}
			for i, r := range got {
				if r.v != i*i || r.err != nil {
					t.Fatalf("result %d = %v, %v; want %d, nil", i, r.v, r.err, i*i)
				}
			}
			if n := ex.submitted.Load(); int(n) != tc.tasks {
				t.Errorf("Map submitted %d tasks; want %d", n, tc.tasks)
			}
		})
	}
}

func TestMapKeepsOrderWhenLaterItemsFinishFirst(t *testing.T) {
	noLeak(t)
	const n = 4
	p := NewThreadPool[int](Options{MaxWorkers: n})
	defer shutdown(t, p)
	// Item i finishes only after item i+1 has: completion order is reversed.
	finished := make([]chan struct{}, n+1)
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	close(finished[n])
	var order []int
	orderCh := make(chan int, n)
	fn := func(ctx context.Context, i int) (int, error) {
		<-finished[i+1]
		orderCh <- i
		close(finished[i])
		return i, nil
	}
	for v, err := range Map(context.Background(), p, fn, count(n, nil), MapOptions{Buffer: n}) {
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, v)
	}
	close(orderCh)
	var completion []int
	for i := range orderCh {
		completion = append(completion, i)
	}
	if !slices.Equal(order, []int{0, 1, 2, 3}) || !slices.Equal(completion, []int{3, 2, 1, 0}) {
		t.Errorf("yielded %v, completed %v; want [0 1 2 3], [3 2 1 0]", order, completion)
	}
}

func TestMapReadsItemsLazily(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 2})
	defer shutdown(t, p)
	for _, o := range []MapOptions{{Buffer: 3}, {Buffer: 2, Chunksize: 4}, {}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			buffer := o.Buffer
			if buffer == 0 {
				buffer = 2 * 2 // twice MaxWorkers
			}
			var read atomic.Int64
			yielded := 0
			for v, err := range Map(context.Background(), p, square, count(-1, &read), o) { // endless
				if err != nil || v != yielded*yielded {
					t.Fatalf("result %d = %v, %v", yielded, v, err)
				}
				yielded++
				ahead := int(read.Load()) - yielded
				if limit := buffer * max(o.Chunksize, 1); ahead > limit {
					t.Fatalf("after %d results, %d items read ahead; want at most %d", yielded, ahead, limit)
				}
				if yielded == 1000 {
					break
				}
			}
		})
	}
}

func TestMapYieldsAnItemsErrorAndGoesOn(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 3})
	defer shutdown(t, p)
	odd := errors.New("odd")
	fn := func(_ context.Context, i int) (int, error) {
		switch {
		case i == 5:
			panic("five")
		case i%2 == 1:
			return 0, fmt.Errorf("item %d: %w", i, odd)
		}
		return i, nil
	}
	for _, chunksize := range []int{1, 3} {
		t.Run(fmt.Sprintf("chunksize %d", chunksize), func(t *testing.T) {
			got := collect(Map(context.Background(), p, fn, count(10, nil), MapOptions{Chunksize: chunksize}))
			if len(got) != 10 {
				t.Fatalf("Map yielded %d results; want 10", len(got))
			}
			for i, r := range got {
				var pe *PanicError
				switch {
				case i == 5:
					if !errors.As(r.err, &pe) || pe.Value != "five" {
						t.Errorf("result 5: err = %v; want the PanicError of five", r.err)
					}
				case i%2 == 1:
					if !errors.Is(r.err, odd) {
						t.Errorf("result %d: err = %v; want odd", i, r.err)
					}
				case r.v != i || r.err != nil:
					t.Errorf("result %d = %v, %v; want %d, nil", i, r.v, r.err, i)
				}
			}
		})
	}
}

func TestMapStopsAtTheDeadline(t *testing.T) {
	for _, chunksize := range []int{1, 2} {
		t.Run(fmt.Sprintf("chunksize %d", chunksize), func(t *testing.T) {
			noLeak(t)
			p := NewThreadPool[int](Options{MaxWorkers: 2})
			release := make(chan struct{})
			var started atomic.Int32
			fn := func(_ context.Context, i int) (int, error) {
				started.Add(1)
				if i >= 2*chunksize {
					<-release
				}
				return i, nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var read atomic.Int64
			var got []pair[int]
			for v, err := range Map(ctx, p, fn, count(100, &read), MapOptions{Chunksize: chunksize, Buffer: 4}) {
				got = append(got, pair[int]{v, err})
				if len(got) == 2*chunksize {
					// The next two tasks run and block, two more wait:
					// the deadline comes.
					waitFor(t, "4 tasks started", func() bool { return started.Load() == int32(2*chunksize+2) })
					cancel()
				}
			}
			if len(got) != 2*chunksize+1 {
				t.Fatalf("Map yielded %v; want %d results then the timeout", got, 2*chunksize)
			}
			for i, r := range got[:2*chunksize] {
				if r.v != i || r.err != nil {
					t.Errorf("result %d = %v, %v", i, r.v, r.err)
				}
			}
			last := got[len(got)-1]
			if !errors.Is(last.err, future.ErrTimeout) || !errors.Is(last.err, context.Canceled) {
				t.Errorf("last yield: err = %v; want one matching future.ErrTimeout and context.Canceled", last.err)
			}
			// 4 tasks submitted, 1 more as the first is yielded, and the
			// item read when Map sees the deadline.
			if n := read.Load(); n != int64(5*chunksize+1) {
				t.Errorf("%d items read; want %d", n, 5*chunksize+1)
			}
			close(release)
			shutdown(t, p)
			// The tasks that had not started were cancelled, and the
			// chunks that had stop at their first item.
			if n := started.Load(); n != int32(2*chunksize+2) {
				t.Errorf("%d items ran; want %d", n, 2*chunksize+2)
			}
		})
	}
}

func TestMapWithAContextAlreadyDoneYieldsTheTimeoutOnly(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 2})
	defer shutdown(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	got := collect(Map(ctx, p, square, count(10, nil), MapOptions{}))
	if len(got) != 1 || !errors.Is(got[0].err, future.ErrTimeout) || !errors.Is(got[0].err, context.DeadlineExceeded) {
		t.Errorf("Map yielded %v; want only a timeout matching context.DeadlineExceeded", got)
	}
}

func TestMapCancelsWhatIsPendingWhenTheConsumerBreaks(t *testing.T) {
	start := runtime.NumGoroutine()
	p := NewThreadPool[int](Options{MaxWorkers: 2})
	var ran, sawCancel atomic.Int32
	fn := func(ctx context.Context, i int) (int, error) {
		ran.Add(1)
		if i >= 3 {
			<-ctx.Done() // running tasks see Map's context cancelled
			sawCancel.Add(1)
			return 0, ctx.Err()
		}
		return i, nil
	}
	n := 0
	for v, err := range Map(context.Background(), p, fn, count(1000, nil), MapOptions{Buffer: 8}) {
		if err != nil || v != n {
			t.Fatalf("result %d = %v, %v", n, v, err)
		}
		if n++; n == 3 {
			break
		}
	}
	shutdown(t, p)
	if r, c := ran.Load(), sawCancel.Load(); r > 3+2 || c != r-3 {
		t.Errorf("%d items ran, %d saw the cancel; want at most 3 + MaxWorkers, all those past 3", r, c)
	}
	waitFor(t, fmt.Sprintf("goroutines back to %d", start), func() bool { return runtime.NumGoroutine() <= start })
}

func TestMapYieldsASubmitErrorAndStops(t *testing.T) {
	noLeak(t)
	t.Run("a pool shut down before", func(t *testing.T) {
		p := NewThreadPool[int](Options{})
		shutdown(t, p)
		got := collect(Map(context.Background(), p, square, count(10, nil), MapOptions{}))
		if len(got) != 1 || !errors.Is(got[0].err, ErrShutdown) {
			t.Errorf("Map yielded %v; want only ErrShutdown", got)
		}
	})
	t.Run("an executor refusing the third task yields two results first", func(t *testing.T) {
		p := NewThreadPool[int](Options{MaxWorkers: 2})
		defer shutdown(t, p)
		ex := &counting[int]{Executor: p, limit: 2, refuse: ErrShutdown}
		got := collect(Map(context.Background(), ex, square, count(10, nil), MapOptions{}))
		want := []pair[int]{{0, nil}, {1, nil}, {0, ErrShutdown}}
		if !slices.Equal(got, want) {
			t.Errorf("Map yielded %v; want %v", got, want)
		}
	})
	t.Run("a broken pool", func(t *testing.T) {
		initErr := errors.New("init")
		p := NewThreadPool[int](Options{MaxWorkers: 1, Initializer: func(context.Context) error { return initErr }})
		defer shutdown(t, p)
		got := collect(Map(context.Background(), p, square, count(1000, nil), MapOptions{Buffer: 4}))
		if len(got) == 0 || len(got) > 5 {
			t.Fatalf("Map yielded %d results; want at most the buffered 4 and the Submit error", len(got))
		}
		for i, r := range got {
			if !errors.Is(r.err, ErrBrokenThreadPool) || !errors.Is(r.err, initErr) {
				t.Errorf("result %d: err = %v; want ErrBrokenThreadPool", i, r.err)
			}
		}
	})
}

func TestMapTasksRunOnNamedWorkers(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[string](Options{MaxWorkers: 1, NamePrefix: "m"})
	defer shutdown(t, p)
	fn := func(ctx context.Context, s string) (string, error) { return s + "@" + WorkerName(ctx), nil }
	var got []string
	for v, err := range Map(context.Background(), p, fn, slices.Values([]string{"a", "b", "c"}), MapOptions{Chunksize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if want := []string{"a@m_0", "b@m_0", "c@m_0"}; !slices.Equal(got, want) {
		t.Errorf("Map yielded %v; want %v", got, want)
	}
}

func BenchmarkMap(b *testing.B) {
	for _, chunksize := range []int{1, 16} {
		b.Run(fmt.Sprintf("chunksize=%d", chunksize), func(b *testing.B) {
			p := NewThreadPool[int](Options{})
			defer p.Shutdown(context.Background(), ShutdownOptions{Wait: true})
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for _, err := range Map(context.Background(), p, square, count(b.N, nil), MapOptions{Chunksize: chunksize}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != b.N {
				b.Fatalf("Map yielded %d results; want %d", n, b.N)
			}
		})
	}
}
