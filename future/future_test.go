package future

import (
	"bytes"
	"context"
	"errors"
	"log"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The futures of CPython's test suite, one per state.

var errJob = errors.New("job failed")

func pendingFuture() *Future[int] { return New[int]() }

func runningFuture() *Future[int] {
	f := New[int]()
	f.SetRunningOrNotifyCancel()
	return f
}

func cancelledFuture() *Future[int] {
	f := New[int]()
	f.Cancel()
	return f
}

// cancelledAndNotifiedFuture is cancelled, and its executor has seen it
// (Python's CANCELLED_AND_NOTIFIED).
func cancelledAndNotifiedFuture() *Future[int] {
	f := cancelledFuture()
	f.SetRunningOrNotifyCancel()
	return f
}

func exceptionFuture() *Future[int] {
	f := runningFuture()
	f.SetException(errJob)
	return f
}

func successfulFuture() *Future[int] {
	f := runningFuture()
	f.SetResult(42)
	return f
}

var futuresInEachState = []struct {
	name  string
	make  func() *Future[int]
	state State
}{
	{"a pending future", pendingFuture, Pending},
	{"a running future", runningFuture, Running},
	{"a cancelled future", cancelledFuture, Cancelled},
	{"a cancelled and notified future", cancelledAndNotifiedFuture, Cancelled},
	{"a future finished with an error", exceptionFuture, Finished},
	{"a future finished with a result", successfulFuture, Finished},
}

// shortContext returns a context that ends soon, for waits that must time out.
func shortContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// patience bounds every wait of these tests that is not itself under test:
// a test that needs it has hung. It is generous, so that a loaded machine
// (a -race build, many packages tested at once) never runs out of it.
const patience = time.Minute

// longContext returns a context that ends only if the test hangs.
func longContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// waitForWaiters blocks until each of fs has a Wait, AsCompleted or Result
// blocked on it, and reports true; or marks the test failed after a
// deadline and reports false. It may run in any goroutine.
func waitForWaiters(t *testing.T, fs ...*Future[int]) bool {
	t.Helper()
	deadline := time.Now().Add(patience)
	for _, f := range fs {
		for !hasWaiter(f) {
			if time.Now().After(deadline) {
				t.Errorf("no waiter registered on the %v future", f.State())
				return false
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	return true
}

func hasWaiter(f *Future[int]) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters) > 0 || f.done != nil
}

func waiterCount(f *Future[int]) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

func TestStateString(t *testing.T) {
	for _, tt := range []struct {
		state State
		want  string
	}{
		{Pending, "PENDING"},
		{Running, "RUNNING"},
		{Cancelled, "CANCELLED"},
		{Finished, "FINISHED"},
		{State(7), "State(7)"},
	} {
		if got := tt.state.String(); got != tt.want {
			t.Errorf("State(%d).String() = %q, want %q", int(tt.state), got, tt.want)
		}
	}
}

func TestPredicatesFollowTheState(t *testing.T) {
	for _, tt := range futuresInEachState {
		t.Run(tt.name+" reports its state", func(t *testing.T) {
			f := tt.make()
			if got := f.State(); got != tt.state {
				t.Fatalf("State() = %v, want %v", got, tt.state)
			}
			if got, want := f.Cancelled(), tt.state == Cancelled; got != want {
				t.Errorf("Cancelled() = %v, want %v", got, want)
			}
			if got, want := f.Running(), tt.state == Running; got != want {
				t.Errorf("Running() = %v, want %v", got, want)
			}
			if got, want := f.Done(), tt.state == Cancelled || tt.state == Finished; got != want {
				t.Errorf("Done() = %v, want %v", got, want)
			}
		})
	}
}

func TestZeroFutureIsPending(t *testing.T) {
	var f Future[string]
	if f.State() != Pending {
		t.Fatalf("zero Future is %v, want PENDING", f.State())
	}
	if err := f.SetResult("ok"); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Result(context.Background()); v != "ok" || err != nil {
		t.Fatalf("Result() = %q, %v; want ok, nil", v, err)
	}
}

func TestCancel(t *testing.T) {
	for _, tt := range []struct {
		name      string
		make      func() *Future[int]
		want      bool
		wantState State
	}{
		{"a pending future is cancelled", pendingFuture, true, Cancelled},
		{"a running future cannot be cancelled", runningFuture, false, Running},
		{"a cancelled future stays cancelled", cancelledFuture, true, Cancelled},
		{"a cancelled and notified future stays cancelled", cancelledAndNotifiedFuture, true, Cancelled},
		{"a future finished with an error cannot be cancelled", exceptionFuture, false, Finished},
		{"a future finished with a result cannot be cancelled", successfulFuture, false, Finished},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			if got := f.Cancel(); got != tt.want {
				t.Errorf("Cancel() = %v, want %v", got, tt.want)
			}
			if got := f.State(); got != tt.wantState {
				t.Errorf("state after Cancel() = %v, want %v", got, tt.wantState)
			}
		})
	}
}

func TestResultTimesOutAndLeavesTheFutureUnchanged(t *testing.T) {
	for _, tt := range futuresInEachState[:2] {
		t.Run(tt.name+" times out at its deadline", func(t *testing.T) {
			f := tt.make()
			v, err := f.Result(shortContext(t))
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Result() error = %v, want ErrTimeout wrapping DeadlineExceeded", err)
			}
			if v != 0 {
				t.Errorf("Result() value = %d, want 0", v)
			}
			if err := f.Err(shortContext(t)); !errors.Is(err, ErrTimeout) {
				t.Errorf("Err() = %v, want ErrTimeout", err)
			}
			if got := f.State(); got != tt.state {
				t.Errorf("state after timeout = %v, want %v", got, tt.state)
			}
		})
		t.Run(tt.name+" times out at once with an ended context", func(t *testing.T) {
			f := tt.make()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := f.Result(ctx)
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
				t.Errorf("Result() error = %v, want ErrTimeout wrapping Canceled", err)
			}
			if got := f.State(); got != tt.state {
				t.Errorf("state after timeout = %v, want %v", got, tt.state)
			}
		})
	}
}

func TestResultOfADoneFuture(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name      string
		make      func() *Future[int]
		wantValue int
		wantErr   error
	}{
		{"a cancelled future returns ErrCancelled", cancelledFuture, 0, ErrCancelled},
		{"a cancelled and notified future returns ErrCancelled", cancelledAndNotifiedFuture, 0, ErrCancelled},
		{"a failed future returns the job's error", exceptionFuture, 0, errJob},
		{"a successful future returns its value", successfulFuture, 42, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			for _, ctx := range []context.Context{context.Background(), ended} {
				v, err := f.Result(ctx)
				if v != tt.wantValue || err != tt.wantErr {
					t.Errorf("Result() = %d, %v; want %d, %v", v, err, tt.wantValue, tt.wantErr)
				}
				if err := f.Err(ctx); err != tt.wantErr {
					t.Errorf("Err() = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

func TestResultWaitsForTheFutureToBeDone(t *testing.T) {
	for _, tt := range []struct {
		name      string
		make      func() *Future[int]
		complete  func(*Future[int])
		wantValue int
		wantErr   error
	}{
		{"a result set while waiting is returned", runningFuture, func(f *Future[int]) { f.SetResult(42) }, 42, nil},
		{"an error set while waiting is returned", runningFuture, func(f *Future[int]) { f.SetException(errJob) }, 0, errJob},
		{"a cancel while waiting returns ErrCancelled", pendingFuture, func(f *Future[int]) { f.Cancel() }, 0, ErrCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() {
				if waitForWaiters(t, f) {
					tt.complete(f)
				}
			})
			v, err := f.Result(longContext(t))
			if v != tt.wantValue || err != tt.wantErr {
				t.Errorf("Result() = %d, %v; want %d, %v", v, err, tt.wantValue, tt.wantErr)
			}
		})
	}
}

func TestSetOnADoneFutureFails(t *testing.T) {
	for _, tt := range []struct {
		name      string
		make      func() *Future[int]
		set       func(*Future[int]) error
		wantValue int
		wantErr   error
	}{
		{"a second result is refused", successfulFuture, func(f *Future[int]) error { return f.SetResult(7) }, 42, nil},
		{"an error after a result is refused", successfulFuture, func(f *Future[int]) error { return f.SetException(errors.New("late")) }, 42, nil},
		{"a second error is refused", exceptionFuture, func(f *Future[int]) error { return f.SetException(errors.New("late")) }, 0, errJob},
		{"a result after an error is refused", exceptionFuture, func(f *Future[int]) error { return f.SetResult(7) }, 0, errJob},
		{"a result on a cancelled future is refused", cancelledFuture, func(f *Future[int]) error { return f.SetResult(7) }, 0, ErrCancelled},
		{"an error on a cancelled and notified future is refused", cancelledAndNotifiedFuture, func(f *Future[int]) error { return f.SetException(errJob) }, 0, ErrCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			state := f.State()
			if err := tt.set(f); !errors.Is(err, ErrInvalidState) {
				t.Errorf("set on a %v future: error %v, want ErrInvalidState", state, err)
			}
			if got := f.State(); got != state {
				t.Errorf("state changed from %v to %v", state, got)
			}
			if v, err := f.Result(context.Background()); v != tt.wantValue || err != tt.wantErr {
				t.Errorf("Result() = %d, %v; want %d, %v unchanged", v, err, tt.wantValue, tt.wantErr)
			}
		})
	}
}

func TestSetOnAPendingFutureFinishesIt(t *testing.T) {
	t.Run("a pending future takes a result", func(t *testing.T) {
		f := pendingFuture()
		if err := f.SetResult(5); err != nil {
			t.Fatal(err)
		}
		if v, err := f.Result(context.Background()); f.State() != Finished || v != 5 || err != nil {
			t.Fatalf("%v future, Result() = %d, %v; want FINISHED, 5, nil", f.State(), v, err)
		}
	})
	t.Run("a pending future takes an error", func(t *testing.T) {
		f := pendingFuture()
		if err := f.SetException(errJob); err != nil {
			t.Fatal(err)
		}
		if err := f.Err(context.Background()); f.State() != Finished || err != errJob {
			t.Fatalf("%v future, Err() = %v; want FINISHED, %v", f.State(), err, errJob)
		}
	})
}

func TestSetExceptionWithNilStillFails(t *testing.T) {
	f := runningFuture()
	if err := f.SetException(nil); err != nil {
		t.Fatalf("SetException(nil) = %v, want nil", err)
	}
	err := f.Err(context.Background())
	if err == nil || !strings.Contains(err.Error(), "nil error") {
		t.Fatalf("Err() = %v, want an error saying SetException got nil", err)
	}
	if _, err := f.Result(context.Background()); err == nil {
		t.Fatal("Result() error = nil, want an error")
	}
	if done, _ := Wait(context.Background(), []*Future[int]{f, pendingFuture()}, FirstException); len(done) != 1 {
		t.Fatalf("Wait(FIRST_EXCEPTION) done = %d futures, want the failed one", len(done))
	}
}

func TestSetRunningOrNotifyCancel(t *testing.T) {
	t.Run("a pending future starts running", func(t *testing.T) {
		f := pendingFuture()
		if !f.SetRunningOrNotifyCancel() {
			t.Fatal("SetRunningOrNotifyCancel() = false, want true")
		}
		if f.State() != Running {
			t.Fatalf("state = %v, want RUNNING", f.State())
		}
	})
	t.Run("a cancelled future tells the executor not to run it", func(t *testing.T) {
		f := cancelledFuture()
		if f.SetRunningOrNotifyCancel() {
			t.Fatal("SetRunningOrNotifyCancel() = true, want false")
		}
		if f.State() != Cancelled {
			t.Fatalf("state = %v, want CANCELLED", f.State())
		}
	})
	for _, tt := range []struct {
		name string
		make func() *Future[int]
	}{
		{"a running future panics", runningFuture},
		{"a cancelled and notified future panics", cancelledAndNotifiedFuture},
		{"a future finished with an error panics", exceptionFuture},
		{"a future finished with a result panics", successfulFuture},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			state := f.State()
			r := catchPanic(func() { f.SetRunningOrNotifyCancel() })
			err, ok := r.(error)
			if !ok || !errors.Is(err, ErrInvalidState) {
				t.Fatalf("panic value %v, want an error matching ErrInvalidState", r)
			}
			if got := f.State(); got != state { // also: the lock was released
				t.Fatalf("state changed from %v to %v", state, got)
			}
		})
	}
}

func catchPanic(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for a log.Logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog sends the callback-panic log to a buffer for the test.
func captureLog(t *testing.T) *syncBuffer {
	t.Helper()
	var buf syncBuffer
	SetLogger(log.New(&buf, "", 0))
	t.Cleanup(func() { SetLogger(nil) })
	return &buf
}

// recorder records the callbacks that ran, in order.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// describe says what a callback sees of its future.
func describe(f *Future[int]) string {
	v, err := f.Result(context.Background()) // the future's lock is not held
	switch {
	case errors.Is(err, ErrCancelled):
		return "cancelled"
	case err != nil:
		return "error " + err.Error()
	}
	return "result " + strconv.Itoa(v)
}

func TestDoneCallbacksRunOnCompletionInOrder(t *testing.T) {
	for _, tt := range []struct {
		name     string
		make     func() *Future[int]
		complete func(*Future[int])
		want     string
	}{
		{"callbacks see the result", runningFuture, func(f *Future[int]) { f.SetResult(42) }, "result 42"},
		{"callbacks see the error", runningFuture, func(f *Future[int]) { f.SetException(errJob) }, "error job failed"},
		{"callbacks see the cancel", pendingFuture, func(f *Future[int]) { f.Cancel() }, "cancelled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.make()
			var r recorder
			for _, name := range []string{"first", "second", "third"} {
				f.AddDoneCallback(func(f *Future[int]) { r.add(name + ": " + describe(f)) })
			}
			if got := r.list(); len(got) != 0 {
				t.Fatalf("callbacks ran before completion: %q", got)
			}
			tt.complete(f) // runs the callbacks before it returns
			want := []string{"first: " + tt.want, "second: " + tt.want, "third: " + tt.want}
			if got := r.list(); !reflect.DeepEqual(got, want) {
				t.Fatalf("callbacks ran %q, want %q", got, want)
			}
			f.Cancel()
			f.SetResult(1)
			if got := r.list(); len(got) != 3 {
				t.Fatalf("callbacks ran again: %q", got)
			}
		})
	}
}

func TestDoneCallbackOnADoneFutureRunsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func() *Future[int]
		want string
	}{
		{"on a successful future", successfulFuture, "result 42"},
		{"on a failed future", exceptionFuture, "error job failed"},
		{"on a cancelled future", cancelledFuture, "cancelled"},
	} {
		t.Run("a callback added "+tt.name+" runs at once", func(t *testing.T) {
			f := tt.make()
			got := ""
			f.AddDoneCallback(func(f *Future[int]) { got = describe(f) })
			if got != tt.want {
				t.Fatalf("callback saw %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPanickingCallbackIsLoggedAndTheOthersStillRun(t *testing.T) {
	t.Run("a panic on completion", func(t *testing.T) {
		logged := captureLog(t)
		f := runningFuture()
		var r recorder
		f.AddDoneCallback(func(*Future[int]) { r.add("before") })
		f.AddDoneCallback(func(*Future[int]) { panic("boom") })
		f.AddDoneCallback(func(*Future[int]) { r.add("after") })
		if err := f.SetResult(1); err != nil {
			t.Fatalf("SetResult() = %v", err)
		}
		if got := r.list(); !reflect.DeepEqual(got, []string{"before", "after"}) {
			t.Errorf("callbacks ran %q, want before and after", got)
		}
		if s := logged.String(); !strings.Contains(s, "exception calling done callback") || !strings.Contains(s, "boom") {
			t.Errorf("log = %q, want the panic", s)
		}
	})
	t.Run("a panic when added to a done future", func(t *testing.T) {
		logged := captureLog(t)
		f := successfulFuture()
		f.AddDoneCallback(func(*Future[int]) { panic(errors.New("bang")) })
		if s := logged.String(); !strings.Contains(s, "bang") || !strings.Contains(s, "FINISHED") {
			t.Errorf("log = %q, want the panic", s)
		}
	})
}

func TestCallbackAddedDuringCompletion(t *testing.T) {
	t.Run("a callback added by a callback runs at once", func(t *testing.T) {
		f := runningFuture()
		var r recorder
		f.AddDoneCallback(func(f *Future[int]) {
			r.add("outer starts")
			f.AddDoneCallback(func(*Future[int]) { r.add("inner") })
			r.add("outer ends")
		})
		f.AddDoneCallback(func(*Future[int]) { r.add("next") })
		f.SetResult(1)
		want := []string{"outer starts", "inner", "outer ends", "next"}
		if got := r.list(); !reflect.DeepEqual(got, want) {
			t.Fatalf("callbacks ran %q, want %q", got, want)
		}
	})
	t.Run("callbacks added concurrently with completion each run once", func(t *testing.T) {
		const n = 200
		f := runningFuture()
		var mu sync.Mutex
		runs := make(map[int]int)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range n {
					id := g*n + i
					f.AddDoneCallback(func(*Future[int]) {
						mu.Lock()
						runs[id]++
						mu.Unlock()
					})
				}
			})
		}
		wg.Go(func() { f.SetResult(1) })
		wg.Wait()
		if len(runs) != 4*n {
			t.Fatalf("%d callbacks ran, want %d", len(runs), 4*n)
		}
		for id, c := range runs {
			if c != 1 {
				t.Fatalf("callback %d ran %d times", id, c)
			}
		}
	})
}

func BenchmarkFutureSetResult(b *testing.B) {
	ctx := context.Background()
	b.Run("set then read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := New[int]()
			f.SetRunningOrNotifyCancel()
			f.SetResult(1)
			if v, _ := f.Result(ctx); v != 1 {
				b.Fatal(v)
			}
		}
	})
	b.Run("set with a callback", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			f := New[int]()
			f.AddDoneCallback(func(*Future[int]) { n++ })
			f.SetResult(1)
		}
	})
	b.Run("set while a goroutine waits", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := New[int]()
			got := make(chan int)
			go func() {
				v, _ := f.Result(ctx)
				got <- v
			}()
			f.SetResult(1)
			<-got
		}
	})
}

func TestReadyIsClosedExactlyWhenTheFutureIsDone(t *testing.T) {
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	for _, tc := range []struct {
		name   string
		before func(*Future[int]) // moves the future before Ready is first called
		after  func(*Future[int]) // completes it after
	}{
		{"pending then finished", func(*Future[int]) {}, func(f *Future[int]) { f.SetResult(1) }},
		{"running then failed", func(f *Future[int]) { f.SetRunningOrNotifyCancel() }, func(f *Future[int]) { f.SetException(errors.New("x")) }},
		{"pending then cancelled", func(*Future[int]) {}, func(f *Future[int]) { f.Cancel() }},
		{"already finished", func(f *Future[int]) { f.SetResult(1) }, nil},
		{"already cancelled", func(f *Future[int]) { f.Cancel() }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New[int]()
			tc.before(f)
			c := f.Ready()
			if f.Ready() != c {
				t.Fatal("Ready returned two different channels")
			}
			if tc.after == nil {
				if !closed(c) {
					t.Fatalf("Ready not closed for a %v future", f.State())
				}
				return
			}
			if closed(c) {
				t.Fatalf("Ready closed for a %v future", f.State())
			}
			tc.after(f)
			if !closed(c) {
				t.Fatalf("Ready not closed once the future is %v", f.State())
			}
		})
	}
}
