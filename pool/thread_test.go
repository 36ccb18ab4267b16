package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
)

// patience bounds every wait of these tests; a test that needs it has hung.
// It is never the thing under test: it is generous, so that a loaded
// machine (a -race build, other packages tested at once, a 64 MiB transfer)
// never runs out of it.
const patience = time.Minute

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, patience)
		}
		<-tick.C
	}
}

// within runs fn and fails the test if it does not return within patience:
// a protocol fault must be an error, never a hang.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("%s: still blocked after %v", what, patience)
	}
}

// ctxTimeout returns a context that ends after patience.
func ctxTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// result waits for f, failing the test if it takes more than patience.
func result[T any](t testing.TB, f *future.Future[T]) (T, error) {
	t.Helper()
	v, err := f.Result(ctxTimeout(t))
	if errors.Is(err, future.ErrTimeout) {
		t.Fatalf("future still %v after %v", f.State(), patience)
	}
	return v, err
}

// submit submits t to p, failing the test on an error.
func submit[T any](t testing.TB, p *ThreadPool[T], task Task[T]) *future.Future[T] {
	t.Helper()
	f, err := p.Submit(context.Background(), task)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return f
}

// shutdown shuts p down and waits for it, failing the test on an error.
func shutdown[T any](t testing.TB, p *ThreadPool[T]) {
	t.Helper()
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true}); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// noLeak records the number of goroutines and, when the test ends, waits for
// it to come back down.
func noLeak(t *testing.T) {
	start := runtime.NumGoroutine()
	t.Cleanup(func() {
		waitFor(t, fmt.Sprintf("goroutines back to %d (now %d)", start, runtime.NumGoroutine()),
			func() bool { return runtime.NumGoroutine() <= start })
	})
}

// counts returns the number of workers started and running, and idle.
func (p *ThreadPool[T]) counts() (started, workers, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started, p.workers, p.idle
}

// blocker is a task that runs until released, counting those running.
type blocker struct {
	release chan struct{}
	running atomic.Int32
}

func newBlocker() *blocker { return &blocker{release: make(chan struct{})} }

func (b *blocker) task(ctx context.Context) (int, error) {
	b.running.Add(1)
	defer b.running.Add(-1)
	<-b.release
	return WorkerID(ctx), nil
}

func (b *blocker) waitRunning(t testing.TB, n int32) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d tasks running", n), func() bool { return b.running.Load() == n })
}

func TestSubmitReturnsTheTaskResult(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{})
	defer shutdown(t, p)

	f := submit(t, p, func(context.Context) (int, error) { return 42, nil })
	if v, err := result(t, f); v != 42 || err != nil {
		t.Errorf("Result = %v, %v; want 42, nil", v, err)
	}
	if f.State() != future.Finished {
		t.Errorf("State = %v; want FINISHED", f.State())
	}

	boom := errors.New("boom")
	f = submit(t, p, func(context.Context) (int, error) { return 7, boom })
	if v, err := result(t, f); v != 0 || err != boom {
		t.Errorf("Result = %v, %v; want 0, boom (the error wins over the value)", v, err)
	}
}

func TestSubmitOfANilTaskFails(t *testing.T) {
	p := NewThreadPool[int](Options{})
	defer shutdown(t, p)
	if f, err := p.Submit(context.Background(), nil); err == nil || f != nil {
		t.Errorf("Submit(nil) = %v, %v; want an error", f, err)
	}
}

func TestManyTasksNeverExceedMaxWorkers(t *testing.T) {
	noLeak(t)
	const max, tasks = 4, 400
	p := NewThreadPool[int](Options{MaxWorkers: max})
	defer shutdown(t, p)

	var running, peak atomic.Int32
	fs := make([]*future.Future[int], tasks)
	for i := range fs {
		fs[i] = submit(t, p, func(context.Context) (int, error) {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			runtime.Gosched()
			running.Add(-1)
			return i, nil
		})
	}
	for i, f := range fs {
		if v, err := result(t, f); v != i || err != nil {
			t.Fatalf("task %d: Result = %v, %v", i, v, err)
		}
	}
	if got := peak.Load(); got > max {
		t.Errorf("%d tasks ran at once; MaxWorkers is %d", got, max)
	}
	if started, _, _ := p.counts(); started > max {
		t.Errorf("%d workers started; MaxWorkers is %d", started, max)
	}
}

func TestMaxWorkersTasksRunAtOnceAndTheRestWait(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 3})
	defer shutdown(t, p)

	b := newBlocker()
	var fs []*future.Future[int]
	for range 5 {
		fs = append(fs, submit(t, p, b.task))
	}
	b.waitRunning(t, 3)
	for i, f := range fs {
		want := future.Running
		if i >= 3 {
			want = future.Pending
		}
		if got := f.State(); got != want {
			t.Errorf("future %d is %v; want %v", i, got, want)
		}
	}
	if started, _, _ := p.counts(); started != 3 {
		t.Errorf("%d workers started; want 3", started)
	}
	close(b.release)
	for _, f := range fs {
		if _, err := result(t, f); err != nil {
			t.Error(err)
		}
	}
}

func TestAnIdleWorkerIsReusedBeforeANewOneStarts(t *testing.T) {
	// CPython's test_idle_thread_reuse.
	p := NewThreadPool[string](Options{MaxWorkers: 4})
	defer shutdown(t, p)
	if started, _, _ := p.counts(); started != 0 {
		t.Fatalf("NewThreadPool started %d workers; want none", started)
	}
	for range 3 {
		f := submit(t, p, func(ctx context.Context) (string, error) { return WorkerName(ctx), nil })
		if name, err := result(t, f); name != "worker_0" || err != nil {
			t.Errorf("Result = %q, %v; want worker_0", name, err)
		}
	}
	if started, _, _ := p.counts(); started != 1 {
		t.Errorf("%d workers started for tasks submitted one after the other; want 1", started)
	}
}

func TestWorkersAreNamedPrefixN(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"", "worker"},
		{"job", "job"},
	} {
		t.Run(fmt.Sprintf("prefix %q names workers %s_N", tc.prefix, tc.want), func(t *testing.T) {
			p := NewThreadPool[string](Options{MaxWorkers: 3, NamePrefix: tc.prefix})
			defer shutdown(t, p)
			var gate sync.WaitGroup
			gate.Add(3)
			var fs []*future.Future[string]
			for range 3 {
				fs = append(fs, submit(t, p, func(ctx context.Context) (string, error) {
					gate.Done()
					gate.Wait() // each of the three on a worker of its own
					return fmt.Sprintf("%s/%d", WorkerName(ctx), WorkerID(ctx)), nil
				}))
			}
			seen := map[string]bool{}
			for _, f := range fs {
				v, err := result(t, f)
				if err != nil {
					t.Fatal(err)
				}
				seen[v] = true
			}
			for n := range 3 {
				if want := fmt.Sprintf("%s_%d/%d", tc.want, n, n); !seen[want] {
					t.Errorf("no task ran on %s; saw %v", want, seen)
				}
			}
		})
	}
}

func TestWorkerNameAndIDOutsideAWorker(t *testing.T) {
	if got := WorkerName(context.Background()); got != "" {
		t.Errorf("WorkerName = %q; want \"\"", got)
	}
	if got := WorkerID(context.Background()); got != -1 {
		t.Errorf("WorkerID = %d; want -1", got)
	}
}

func TestTheInitializerRunsOncePerWorkerBeforeItsFirstTask(t *testing.T) {
	noLeak(t)
	const max = 3
	var mu sync.Mutex
	inits := map[string]int{}
	p := NewThreadPool[int](Options{MaxWorkers: max, Initializer: func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		inits[WorkerName(ctx)]++
		return nil
	}})

	var fs []*future.Future[int]
	for range 50 {
		fs = append(fs, submit(t, p, func(ctx context.Context) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return inits[WorkerName(ctx)], nil
		}))
	}
	for i, f := range fs {
		if n, err := result(t, f); n != 1 || err != nil {
			t.Errorf("task %d saw its worker initialized %d times (%v); want 1", i, n, err)
		}
	}
	shutdown(t, p) // every worker started has run its initializer
	started, _, _ := p.counts()
	mu.Lock()
	defer mu.Unlock()
	if len(inits) != started {
		t.Errorf("initializer ran in %d workers; %d started", len(inits), started)
	}
	for name, n := range inits {
		if n != 1 {
			t.Errorf("initializer ran %d times in %s", n, name)
		}
	}
}

func TestAFailingInitializerBreaksThePool(t *testing.T) {
	noLeak(t)
	release := make(chan struct{})
	initErr := errors.New("no credentials")
	p := NewThreadPool[int](Options{MaxWorkers: 2, NamePrefix: "init", Initializer: func(ctx context.Context) error {
		<-release
		return initErr
	}})
	var fs []*future.Future[int]
	var ran atomic.Int32
	for range 5 {
		fs = append(fs, submit(t, p, func(context.Context) (int, error) { ran.Add(1); return 1, nil }))
	}
	close(release)

	for i, f := range fs {
		_, err := result(t, f)
		if !errors.Is(err, ErrBrokenThreadPool) || !errors.Is(err, ErrBroken) || !errors.Is(err, initErr) {
			t.Fatalf("future %d: err = %v; want one matching ErrBrokenThreadPool, ErrBroken and the initializer's error", i, err)
		}
		if errors.Is(err, ErrBrokenProcessPool) {
			t.Errorf("future %d: err %v matches ErrBrokenProcessPool", i, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "init_") || !strings.Contains(msg, "no credentials") {
			t.Errorf("future %d: err %q does not name the worker and the initializer's error", i, msg)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("%d tasks ran in a broken pool", n)
	}
	if _, err := p.Submit(context.Background(), func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, ErrBrokenThreadPool) {
		t.Errorf("Submit after break: err = %v; want ErrBrokenThreadPool", err)
	}
	shutdown(t, p)
	if _, err := p.Submit(context.Background(), func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, ErrBroken) {
		t.Errorf("Submit after break and shutdown: err = %v; want the Broken error", err)
	}
}

func TestRunningTasksFinishWhenAnotherWorkersInitializerFails(t *testing.T) {
	noLeak(t)
	var calls atomic.Int32
	p := NewThreadPool[int](Options{MaxWorkers: 2, Initializer: func(ctx context.Context) error {
		if calls.Add(1) == 2 {
			return errors.New("second worker fails")
		}
		return nil
	}})
	b := newBlocker()
	running := submit(t, p, b.task)
	b.waitRunning(t, 1)
	pending := submit(t, p, b.task) // starts worker_1, which breaks the pool
	if _, err := result(t, pending); !errors.Is(err, ErrBrokenThreadPool) || !strings.Contains(err.Error(), "worker_1") {
		t.Errorf("pending future: err = %v; want ErrBrokenThreadPool naming worker_1", err)
	}
	close(b.release)
	if v, err := result(t, running); v != 0 || err != nil {
		t.Errorf("running future: Result = %v, %v; want 0, nil", v, err)
	}
	shutdown(t, p)
}

func TestAPanickingInitializerBreaksThePool(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{Initializer: func(context.Context) error { panic("no way") }})
	f := submit(t, p, func(context.Context) (int, error) { return 1, nil })
	_, err := result(t, f)
	var pe *PanicError
	if !errors.Is(err, ErrBrokenThreadPool) || !errors.As(err, &pe) || pe.Value != "no way" {
		t.Errorf("err = %v; want ErrBrokenThreadPool wrapping a PanicError", err)
	}
	shutdown(t, p)
}

func TestAPanickingTaskFailsItsFutureAndThePoolGoesOn(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	defer shutdown(t, p)

	f := submit(t, p, func(context.Context) (int, error) { panic("kaboom") })
	_, err := result(t, f)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T); want a *PanicError", err, err)
	}
	if pe.Value != "kaboom" || !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("PanicError = %v; want the panic value kaboom", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "thread_test.go") {
		t.Errorf("PanicError.Stack does not show the panicking task:\n%s", pe.Stack)
	}

	sentinel := errors.New("sentinel")
	f = submit(t, p, func(context.Context) (int, error) { panic(sentinel) })
	if _, err := result(t, f); !errors.Is(err, sentinel) {
		t.Errorf("err = %v; want it to unwrap to the error given to panic", err)
	}

	f = submit(t, p, func(ctx context.Context) (int, error) { return WorkerID(ctx) + 10, nil })
	if v, err := result(t, f); v != 10 || err != nil {
		t.Errorf("after the panics: Result = %v, %v; want 10 from worker_0", v, err)
	}
	if started, _, _ := p.counts(); started != 1 {
		t.Errorf("%d workers started; want the one that recovered", started)
	}
}

func TestATaskCallingGoexitFailsItsFutureAndThePoolGoesOn(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	defer shutdown(t, p)
	b := newBlocker()
	first := submit(t, p, b.task)
	b.waitRunning(t, 1)
	exit := submit(t, p, func(context.Context) (int, error) { runtime.Goexit(); return 0, nil })
	after := submit(t, p, func(context.Context) (int, error) { return 3, nil })
	close(b.release)
	if _, err := result(t, first); err != nil {
		t.Error(err)
	}
	if _, err := result(t, exit); !errors.Is(err, errGoexit) {
		t.Errorf("err = %v; want errGoexit", err)
	}
	if v, err := result(t, after); v != 3 || err != nil {
		t.Errorf("Result = %v, %v; want 3 from a replacement worker", v, err)
	}
}

func TestTheTaskContextDerivesFromTheSubmitContext(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	defer shutdown(t, p)

	t.Run("cancelling it cancels the running task's context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		f, err := p.Submit(ctx, func(ctx context.Context) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		<-started
		cancel()
		if _, err := result(t, f); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v; want context.Canceled", err)
		}
	})

	t.Run("a task whose context ended before it started is cancelled", func(t *testing.T) {
		b := newBlocker()
		first := submit(t, p, b.task)
		b.waitRunning(t, 1)
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Bool
		f, err := p.Submit(ctx, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		close(b.release)
		if _, err := result(t, first); err != nil {
			t.Error(err)
		}
		if _, err := result(t, f); !errors.Is(err, future.ErrCancelled) {
			t.Errorf("err = %v; want future.ErrCancelled", err)
		}
		if ran.Load() {
			t.Error("the task ran")
		}
	})

	t.Run("it carries the Submit context's values", func(t *testing.T) {
		type key struct{}
		ctx := context.WithValue(context.Background(), key{}, "v")
		f, err := p.Submit(ctx, func(ctx context.Context) (int, error) {
			if ctx.Value(key{}) != "v" {
				return 0, errors.New("value lost")
			}
			return 1, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := result(t, f); err != nil {
			t.Error(err)
		}
	})
}

func TestShutdownWithWaitRunsEveryPendingTask(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 2})
	var fs []*future.Future[int]
	for i := range 20 {
		fs = append(fs, submit(t, p, func(context.Context) (int, error) { runtime.Gosched(); return i * i, nil }))
	}
	shutdown(t, p)
	for i, f := range fs {
		if !f.Done() {
			t.Fatalf("future %d is %v after Shutdown{Wait: true}", i, f.State())
		}
		if v, _ := f.Result(context.Background()); v != i*i {
			t.Errorf("future %d = %d; want %d", i, v, i*i)
		}
	}
	if _, workers, _ := p.counts(); workers != 0 {
		t.Errorf("%d workers after Shutdown{Wait: true}", workers)
	}
}

func TestShutdownWithoutWaitReturnsAtOnce(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	b := newBlocker()
	running := submit(t, p, b.task)
	b.waitRunning(t, 1)
	pending := submit(t, p, b.task)
	if err := p.Shutdown(context.Background(), ShutdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if running.State() != future.Running || pending.State() != future.Pending {
		t.Errorf("after Shutdown{}: futures are %v and %v; want RUNNING and PENDING", running.State(), pending.State())
	}
	close(b.release)
	// The pending task still runs; the workers exit once the queue is empty,
	// and a Shutdown with Wait owns them.
	for _, f := range []*future.Future[int]{running, pending} {
		if _, err := result(t, f); err != nil {
			t.Error(err)
		}
	}
	shutdown(t, p)
}

func TestShutdownWithCancelFuturesCancelsThePendingOnes(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	b := newBlocker()
	running := submit(t, p, b.task)
	b.waitRunning(t, 1)
	var pending []*future.Future[int]
	for range 10 {
		pending = append(pending, submit(t, p, b.task))
	}
	if err := p.Shutdown(context.Background(), ShutdownOptions{CancelFutures: true}); err != nil {
		t.Fatal(err)
	}
	for i, f := range pending {
		if !f.Cancelled() {
			t.Errorf("pending future %d is %v; want CANCELLED", i, f.State())
		}
	}
	if running.State() != future.Running {
		t.Errorf("running future is %v; want RUNNING", running.State())
	}
	close(b.release)
	shutdown(t, p)
	if v, err := result(t, running); v != 0 || err != nil {
		t.Errorf("running future: Result = %v, %v", v, err)
	}
	if n := b.running.Load(); n != 0 {
		t.Errorf("%d tasks still running", n)
	}
}

func TestShutdownWithWaitReturnsTheContextErrorWhenItEnds(t *testing.T) {
	noLeak(t)
	p := NewThreadPool[int](Options{MaxWorkers: 1})
	b := newBlocker()
	f := submit(t, p, b.task)
	b.waitRunning(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx, ShutdownOptions{Wait: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v; want context.DeadlineExceeded", err)
	}
	close(b.release)
	shutdown(t, p) // again: idempotent, and now it waits
	if !f.Done() {
		t.Errorf("future is %v after Shutdown{Wait: true}", f.State())
	}
}

func TestSubmitAfterShutdownFails(t *testing.T) {
	for _, o := range []ShutdownOptions{{}, {Wait: true}, {CancelFutures: true}} {
		t.Run(fmt.Sprintf("after Shutdown(%+v)", o), func(t *testing.T) {
			p := NewThreadPool[int](Options{})
			submit(t, p, func(context.Context) (int, error) { return 0, nil })
			if err := p.Shutdown(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			f, err := p.Submit(context.Background(), func(context.Context) (int, error) { return 0, nil })
			if !errors.Is(err, ErrShutdown) || f != nil {
				t.Errorf("Submit = %v, %v; want nil, ErrShutdown", f, err)
			}
			shutdown(t, p)
			shutdown(t, p)
		})
	}
}

func TestShutdownOfAnUnusedPoolReturnsAtOnce(t *testing.T) {
	p := NewThreadPool[int](Options{})
	shutdown(t, p)
}

func TestGoroutinesReturnToTheStartAfterShutdown(t *testing.T) {
	start := runtime.NumGoroutine()
	p := NewThreadPool[int](Options{MaxWorkers: 8})
	var fs []*future.Future[int]
	for i := range 100 {
		fs = append(fs, submit(t, p, func(context.Context) (int, error) { return i, nil }))
	}
	if err := p.Shutdown(context.Background(), ShutdownOptions{}); err != nil {
		t.Fatal(err)
	}
	shutdown(t, p)
	for _, f := range fs {
		if !f.Done() {
			t.Fatal("a future is not done after Shutdown{Wait: true}")
		}
	}
	waitFor(t, fmt.Sprintf("goroutines back to %d", start), func() bool { return runtime.NumGoroutine() <= start })
}

func TestNewThreadPoolDefaults(t *testing.T) {
	p := NewThreadPool[int](Options{})
	if p.max != runtime.NumCPU() || p.prefix != "worker" {
		t.Errorf("max, prefix = %d, %q; want %d, worker", p.max, p.prefix, runtime.NumCPU())
	}
	defer func() {
		if recover() == nil {
			t.Error("NewThreadPool with a negative MaxWorkers did not panic")
		}
	}()
	NewThreadPool[int](Options{MaxWorkers: -1})
}

func TestTheQueueKeepsOrderAcrossGrowth(t *testing.T) {
	type key struct{}
	var q fifo[int]
	pushed, next := 0, 0
	for round := range 3 {
		for range 100 * (round + 1) {
			q.push(item[int]{ctx: context.WithValue(context.Background(), key{}, pushed)})
			pushed++
		}
		for q.len() > 50 {
			it, _ := q.pop()
			if got := it.ctx.Value(key{}); got != next {
				t.Fatalf("popped %v; want %d", got, next)
			}
			next++
		}
	}
	all := q.drain()
	if len(all) != 50 || q.len() != 0 {
		t.Errorf("drain = %d items, %d left; want 50, 0", len(all), q.len())
	}
	if _, ok := q.pop(); ok {
		t.Error("pop on an empty queue")
	}
}

func BenchmarkThreadPoolSubmit(b *testing.B) {
	p := NewThreadPool[int](Options{})
	defer p.Shutdown(context.Background(), ShutdownOptions{Wait: true})
	ctx := context.Background()
	task := func(context.Context) (int, error) { return 1, nil }
	fs := make([]*future.Future[int], 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		f, err := p.Submit(ctx, task)
		if err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
		if len(fs) == cap(fs) { // bound what is in flight, as a caller would
			for _, f := range fs {
				f.Result(ctx)
			}
			fs = fs[:0]
		}
	}
	for _, f := range fs {
		f.Result(ctx)
	}
}
