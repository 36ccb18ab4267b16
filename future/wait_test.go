package future

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReturnWhenString(t *testing.T) {
	for _, tt := range []struct {
		when ReturnWhen
		want string
	}{
		{FirstCompleted, "FIRST_COMPLETED"},
		{FirstException, "FIRST_EXCEPTION"},
		{AllCompleted, "ALL_COMPLETED"},
		{ReturnWhen(9), "ReturnWhen(9)"},
	} {
		if got := tt.when.String(); got != tt.want {
			t.Errorf("ReturnWhen(%d).String() = %q, want %q", int(tt.when), got, tt.want)
		}
	}
}

// Kinds of futures in a wait test: those in futuresInEachState, and those
// that a goroutine completes while the test waits on them.
var (
	makeKind = map[string]func() *Future[int]{
		"pending":   pendingFuture,
		"running":   runningFuture,
		"cancelled": cancelledFuture,
		"notified":  cancelledAndNotifiedFuture,
		"failed":    exceptionFuture,
		"succeeded": successfulFuture,
	}
	completeLater = map[string]func(*Future[int]){
		"succeeds later":     func(f *Future[int]) { f.SetResult(1) },
		"fails later":        func(f *Future[int]) { f.SetException(errJob) },
		"is cancelled later": func(f *Future[int]) { f.Cancel() },
	}
)

// makeFutures makes one future of each kind, and returns a function that
// completes the "later" ones, in order, once something waits on them all.
func makeFutures(t *testing.T, kinds []string) (fs []*Future[int], completeThem func()) {
	t.Helper()
	var later []*Future[int]
	var complete []func(*Future[int])
	for _, k := range kinds {
		if mk, ok := makeKind[k]; ok {
			fs = append(fs, mk())
			continue
		}
		c, ok := completeLater[k]
		if !ok {
			t.Fatalf("unknown kind of future %q", k)
		}
		f := runningFuture()
		if k == "is cancelled later" {
			f = pendingFuture()
		}
		fs = append(fs, f)
		later = append(later, f)
		complete = append(complete, c)
	}
	return fs, func() {
		if len(later) == 0 || !waitForWaiters(t, later...) {
			return
		}
		for i, f := range later {
			complete[i](f)
		}
	}
}

func pick(fs []*Future[int], idx []int) []*Future[int] {
	var out []*Future[int]
	for _, i := range idx {
		out = append(out, fs[i])
	}
	return out
}

func TestWait(t *testing.T) {
	for _, tt := range []struct {
		name        string
		when        ReturnWhen
		kinds       []string
		timesOut    bool // the wait ends at its deadline
		wantDone    []int
		wantNotDone []int
	}{
		{
			name:        "FIRST_COMPLETED returns when one future completes",
			when:        FirstCompleted,
			kinds:       []string{"pending", "succeeds later", "running"},
			wantDone:    []int{1},
			wantNotDone: []int{0, 2},
		},
		{
			name:        "FIRST_COMPLETED returns when one future is cancelled",
			when:        FirstCompleted,
			kinds:       []string{"is cancelled later", "pending"},
			wantDone:    []int{0},
			wantNotDone: []int{1},
		},
		{
			name:        "FIRST_COMPLETED returns the already done futures at once",
			when:        FirstCompleted,
			kinds:       []string{"cancelled", "notified", "succeeded", "pending"},
			wantDone:    []int{0, 1, 2},
			wantNotDone: []int{3},
		},
		{
			name:        "FIRST_COMPLETED returns at the deadline when nothing completes",
			when:        FirstCompleted,
			kinds:       []string{"pending", "running"},
			timesOut:    true,
			wantNotDone: []int{0, 1},
		},
		{
			name:        "FIRST_EXCEPTION returns when a future fails",
			when:        FirstException,
			kinds:       []string{"succeeds later", "fails later", "running"},
			wantDone:    []int{0, 1},
			wantNotDone: []int{2},
		},
		{
			name:        "FIRST_EXCEPTION returns the already done futures with the failed one",
			when:        FirstException,
			kinds:       []string{"succeeded", "cancelled", "notified", "fails later", "pending"},
			wantDone:    []int{0, 1, 2, 3},
			wantNotDone: []int{4},
		},
		{
			name:        "FIRST_EXCEPTION returns at once when a future has already failed",
			when:        FirstException,
			kinds:       []string{"pending", "failed", "running"},
			wantDone:    []int{1},
			wantNotDone: []int{0, 2},
		},
		{
			name:     "FIRST_EXCEPTION with none failing waits for all as ALL_COMPLETED",
			when:     FirstException,
			kinds:    []string{"succeeded", "cancelled", "succeeds later", "is cancelled later"},
			wantDone: []int{0, 1, 2, 3},
		},
		{
			name:        "FIRST_EXCEPTION does not count a cancelled future as an exception",
			when:        FirstException,
			kinds:       []string{"cancelled", "notified", "pending"},
			timesOut:    true,
			wantDone:    []int{0, 1},
			wantNotDone: []int{2},
		},
		{
			name:     "ALL_COMPLETED waits for every future",
			when:     AllCompleted,
			kinds:    []string{"succeeded", "notified", "failed", "succeeds later", "fails later", "is cancelled later"},
			wantDone: []int{0, 1, 2, 3, 4, 5},
		},
		{
			name:     "ALL_COMPLETED returns at once when every future is done",
			when:     AllCompleted,
			kinds:    []string{"succeeded", "cancelled", "failed"},
			wantDone: []int{0, 1, 2},
		},
		{
			name:        "ALL_COMPLETED returns what is done at the deadline",
			when:        AllCompleted,
			kinds:       []string{"notified", "failed", "succeeded", "pending"},
			timesOut:    true,
			wantDone:    []int{0, 1, 2},
			wantNotDone: []int{3},
		},
		{name: "FIRST_COMPLETED on no futures returns at once", when: FirstCompleted},
		{name: "FIRST_EXCEPTION on no futures returns at once", when: FirstException},
		{name: "ALL_COMPLETED on no futures returns at once", when: AllCompleted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, completeThem := makeFutures(t, tt.kinds)
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(completeThem)
			ctx := longContext(t)
			if tt.timesOut {
				ctx = shortContext(t)
			}

			done, notDone := Wait(ctx, fs, tt.when)

			if got := ctx.Err() != nil; got != tt.timesOut {
				t.Errorf("Wait returned with ctx.Err() = %v; want a timeout: %v", ctx.Err(), tt.timesOut)
			}
			if want := pick(fs, tt.wantDone); !reflect.DeepEqual(done, want) {
				t.Errorf("done = %v, want %v", states(done), states(want))
			}
			if want := pick(fs, tt.wantNotDone); !reflect.DeepEqual(notDone, want) {
				t.Errorf("notDone = %v, want %v", states(notDone), states(want))
			}
			for i, f := range fs {
				if n := waiterCount(f); n != 0 {
					t.Errorf("future %d still has %d waiters", i, n)
				}
			}
		})
	}
}

func states(fs []*Future[int]) []State {
	var out []State
	for _, f := range fs {
		out = append(out, f.State())
	}
	return out
}

func TestWaitTreatsTheFuturesAsASet(t *testing.T) {
	t.Run("a future listed twice is returned once", func(t *testing.T) {
		p, s := pendingFuture(), successfulFuture()
		done, notDone := Wait(shortContext(t), []*Future[int]{p, s, p, s, p}, AllCompleted)
		if !reflect.DeepEqual(done, []*Future[int]{s}) || !reflect.DeepEqual(notDone, []*Future[int]{p}) {
			t.Fatalf("Wait() = %v, %v; want [FINISHED], [PENDING]", states(done), states(notDone))
		}
	})
	t.Run("a future listed twice completes the wait once", func(t *testing.T) {
		f, other := runningFuture(), runningFuture()
		// The wait ends when ctx does, once f is done: not at a deadline,
		// which a loaded machine could reach before f is completed.
		ctx, cancel := context.WithCancel(longContext(t))
		defer cancel()
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			defer cancel()
			if waitForWaiters(t, f) {
				f.SetResult(1)
			}
		})
		// Counting f twice would make ALL_COMPLETED return with other pending.
		done, notDone := Wait(ctx, []*Future[int]{f, f, other}, AllCompleted)
		if len(done) != 1 || done[0] != f || len(notDone) != 1 || notDone[0] != other {
			t.Fatalf("Wait() = %v, %v; want [FINISHED], [RUNNING]", states(done), states(notDone))
		}
	})
}

func TestWaitPanicsOnMisuse(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait func()
	}{
		{"an unknown ReturnWhen panics", func() { Wait(context.Background(), []*Future[int]{successfulFuture()}, ReturnWhen(3)) }},
		{"a nil future panics in Wait", func() { Wait(context.Background(), []*Future[int]{nil}, AllCompleted) }},
		{"a nil future panics in AsCompleted", func() { AsCompleted(context.Background(), []*Future[int]{nil}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := catchPanic(tt.wait); r == nil {
				t.Fatal("no panic")
			}
		})
	}
}

// collected is what an AsCompleted iteration yielded.
type collected struct {
	fs   []*Future[int]
	errs []error
}

func collect(seq func(func(*Future[int], error) bool)) collected {
	var c collected
	for f, err := range seq {
		if err != nil {
			c.errs = append(c.errs, err)
			if f != nil {
				c.fs = append(c.fs, f) // an error must come with no future
			}
			continue
		}
		if !f.Done() {
			panic(fmt.Sprintf("AsCompleted yielded a %v future", f.State()))
		}
		c.fs = append(c.fs, f)
	}
	return c
}

func TestAsCompletedYieldsTheDoneFirstThenInCompletionOrder(t *testing.T) {
	fs, _ := makeFutures(t, []string{"running", "succeeded", "pending", "failed", "running", "notified", "cancelled"})
	p1, p2, p3 := fs[0], fs[2], fs[4]
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if !waitForWaiters(t, p1, p2, p3) {
			return
		}
		p3.SetResult(3)
		p2.Cancel()
		p1.SetException(errJob)
	})

	got := collect(AsCompleted(longContext(t), fs))

	want := []*Future[int]{fs[1], fs[3], fs[5], fs[6], p3, p2, p1}
	if !reflect.DeepEqual(got.fs, want) || got.errs != nil {
		t.Fatalf("AsCompleted yielded %v with errors %v; want %v", states(got.fs), got.errs, states(want))
	}
	for i, f := range fs {
		if n := waiterCount(f); n != 0 {
			t.Errorf("future %d still has %d waiters", i, n)
		}
	}
}

func TestAsCompletedTimesOut(t *testing.T) {
	t.Run("an ended context yields the done futures then ErrTimeout", func(t *testing.T) {
		fs, _ := makeFutures(t, []string{"notified", "pending", "failed", "succeeded", "running"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		got := collect(AsCompleted(ctx, fs))

		if want := []*Future[int]{fs[0], fs[2], fs[3]}; !reflect.DeepEqual(got.fs, want) {
			t.Errorf("yielded %v, want %v", states(got.fs), states(want))
		}
		if len(got.errs) != 1 {
			t.Fatalf("errors %v, want one ErrTimeout", got.errs)
		}
		err := got.errs[0]
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "2 (of 5) futures unfinished") {
			t.Errorf("error %q, want ErrTimeout, Canceled and 2 (of 5) futures unfinished", err)
		}
	})
	t.Run("a deadline during the wait yields ErrTimeout once", func(t *testing.T) {
		fs, _ := makeFutures(t, []string{"succeeded", "pending"})
		got := collect(AsCompleted(shortContext(t), fs))
		if len(got.fs) != 1 || got.fs[0] != fs[0] || len(got.errs) != 1 {
			t.Fatalf("yielded %v with errors %v; want the done future then one error", states(got.fs), got.errs)
		}
		if err := got.errs[0]; !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want ErrTimeout wrapping DeadlineExceeded", err)
		}
		if n := waiterCount(fs[1]); n != 0 {
			t.Errorf("the pending future still has %d waiters", n)
		}
	})
	t.Run("a future done when the context ends is still yielded", func(t *testing.T) {
		fs, _ := makeFutures(t, []string{"running", "running"})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			if waitForWaiters(t, fs...) {
				fs[1].SetResult(1)
			}
			cancel()
		})
		got := collect(AsCompleted(ctx, fs))
		if len(got.fs) != 1 || got.fs[0] != fs[1] || len(got.errs) != 1 || !errors.Is(got.errs[0], ErrTimeout) {
			t.Fatalf("yielded %v with errors %v; want the finished future then ErrTimeout", states(got.fs), got.errs)
		}
	})
	t.Run("a timeout after all are done yields no error", func(t *testing.T) {
		fs, _ := makeFutures(t, []string{"succeeded", "cancelled"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if got := collect(AsCompleted(ctx, fs)); len(got.fs) != 2 || got.errs != nil {
			t.Fatalf("yielded %v with errors %v; want both, no error", states(got.fs), got.errs)
		}
	})
}

func TestAsCompletedYieldsEachFutureOnce(t *testing.T) {
	t.Run("a future listed many times is yielded once", func(t *testing.T) {
		done, later := successfulFuture(), runningFuture()
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			if waitForWaiters(t, later) {
				later.SetResult(1)
			}
		})
		got := collect(AsCompleted(longContext(t), []*Future[int]{later, done, later, done, later}))
		if want := []*Future[int]{done, later}; !reflect.DeepEqual(got.fs, want) || got.errs != nil {
			t.Fatalf("yielded %v with errors %v; want %v", states(got.fs), got.errs, states(want))
		}
	})
	t.Run("no futures yield nothing", func(t *testing.T) {
		if got := collect(AsCompleted[int](context.Background(), nil)); got.fs != nil || got.errs != nil {
			t.Fatalf("yielded %v with errors %v", states(got.fs), got.errs)
		}
	})
	t.Run("ranging again yields every done future again", func(t *testing.T) {
		fs := []*Future[int]{runningFuture(), successfulFuture()}
		seq := AsCompleted(longContext(t), fs)
		fs[0].SetResult(1)
		for range 2 {
			if got := collect(seq); !reflect.DeepEqual(got.fs, fs) {
				t.Fatalf("yielded %v, want %v", states(got.fs), states(fs))
			}
		}
	})
	t.Run("changing the slice after the call changes nothing", func(t *testing.T) {
		fs := []*Future[int]{successfulFuture()}
		want := fs[0]
		seq := AsCompleted(longContext(t), fs)
		fs[0] = pendingFuture()
		if got := collect(seq); len(got.fs) != 1 || got.fs[0] != want {
			t.Fatalf("yielded %v, want the original future", states(got.fs))
		}
	})
}

func TestAsCompletedStopsWhenTheConsumerBreaks(t *testing.T) {
	for _, tt := range []struct {
		name     string
		after    int  // futures consumed before the break
		complete bool // complete a future during the iteration
	}{
		{"a break among the already done futures", 1, false},
		{"a break among the futures completing", 3, true},
	} {
		t.Run(tt.name+" unregisters every waiter", func(t *testing.T) {
			fs, _ := makeFutures(t, []string{"succeeded", "failed", "running", "running", "pending"})
			var wg sync.WaitGroup
			defer wg.Wait()
			if tt.complete {
				wg.Go(func() {
					if waitForWaiters(t, fs[2], fs[3], fs[4]) {
						fs[3].SetResult(1)
					}
				})
			}
			n := 0
			for f, err := range AsCompleted(longContext(t), fs) {
				if err != nil || f == nil {
					t.Fatalf("yielded %v, %v", f, err)
				}
				n++
				if n == tt.after {
					break
				}
			}
			wg.Wait()
			for i, f := range fs {
				if c := waiterCount(f); c != 0 {
					t.Errorf("future %d still has %d waiters", i, c)
				}
			}
			// Completing the rest must not block or signal a dead iteration.
			fs[2].SetResult(2)
			fs[4].Cancel()
		})
	}
}

// TestWaitingLeavesNoGoroutinesBehind checks that the waits that end early
// (a break, a deadline) leave neither goroutines nor waiters behind.
func TestWaitingLeavesNoGoroutinesBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	fs := []*Future[int]{successfulFuture(), pendingFuture(), runningFuture()}

	for range AsCompleted(longContext(t), fs) {
		break
	}
	for _, err := range AsCompleted(shortContext(t), fs) {
		if err != nil {
			break
		}
	}
	Wait(shortContext(t), fs, AllCompleted)
	Wait(shortContext(t), fs, FirstException)
	fs[1].Result(shortContext(t))

	for i, f := range fs {
		if n := waiterCount(f); n != 0 {
			t.Errorf("future %d still has %d waiters", i, n)
		}
	}
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the waits, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStress completes and cancels thousands of futures from many
// goroutines while Wait, AsCompleted and Result run on them.
func TestStress(t *testing.T) {
	const (
		n         = 3000
		executors = 8
	)
	fs := make([]*Future[int], n)
	for i := range fs {
		fs[i] = New[int]()
	}
	var callbacks atomic.Int64
	for _, f := range fs {
		f.AddDoneCallback(func(*Future[int]) { callbacks.Add(1) })
	}
	ctx := longContext(t)

	var consumers sync.WaitGroup
	consumers.Go(func() {
		seen := make(map[*Future[int]]bool, n)
		for f, err := range AsCompleted(ctx, fs) {
			if err != nil {
				t.Errorf("AsCompleted: %v", err)
				return
			}
			if seen[f] || !f.Done() {
				t.Errorf("AsCompleted yielded a %v future, seen before: %v", f.State(), seen[f])
			}
			seen[f] = true
		}
		if len(seen) != n {
			t.Errorf("AsCompleted yielded %d futures, want %d", len(seen), n)
		}
	})
	for _, when := range []ReturnWhen{FirstCompleted, FirstException, AllCompleted} {
		consumers.Go(func() {
			done, notDone := Wait(ctx, fs, when)
			if len(done)+len(notDone) != n {
				t.Errorf("Wait(%v) returned %d futures, want %d", when, len(done)+len(notDone), n)
			}
			for _, f := range done {
				if !f.Done() {
					t.Errorf("Wait(%v) returned a %v future as done", when, f.State())
				}
			}
			if when == AllCompleted && len(notDone) != 0 {
				t.Errorf("Wait(ALL_COMPLETED) returned %d not done", len(notDone))
			}
		})
		consumers.Go(func() { // waits that time out while futures complete
			for range 5 {
				ctx, cancel := context.WithTimeout(ctx, 100*time.Microsecond)
				done, notDone := Wait(ctx, fs, when)
				cancel()
				if len(done)+len(notDone) != n {
					t.Errorf("Wait(%v) returned %d futures, want %d", when, len(done)+len(notDone), n)
				}
			}
		})
	}
	consumers.Go(func() {
		for i := 0; i < n; i += 7 {
			if _, err := fs[i].Result(ctx); errors.Is(err, ErrTimeout) {
				t.Errorf("Result: %v", err)
				return
			}
		}
	})

	var producers sync.WaitGroup
	producers.Go(func() { // the caller cancels some futures
		for i := n - 1; i >= 0; i -= 3 {
			fs[i].Cancel()
		}
	})
	for e := range executors {
		producers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(e), 1))
			for i := e; i < n; i += executors {
				f := fs[i]
				if !f.SetRunningOrNotifyCancel() {
					continue
				}
				f.Cancel() // too late: it is running
				var err error
				if rng.IntN(4) == 0 {
					err = f.SetException(errJob)
				} else {
					err = f.SetResult(i)
				}
				if err != nil {
					t.Errorf("completing a running future: %v", err)
				}
			}
		})
	}
	producers.Wait()
	consumers.Wait()

	if got := callbacks.Load(); got != n {
		t.Errorf("%d callbacks ran, want %d", got, n)
	}
	for i, f := range fs {
		if !f.Done() || waiterCount(f) != 0 {
			t.Fatalf("future %d: %v with %d waiters", i, f.State(), waiterCount(f))
		}
	}
}

func BenchmarkWait(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("ALL_COMPLETED with %d futures already done", n), func(b *testing.B) {
			fs := make([]*Future[int], n)
			for i := range fs {
				fs[i] = New[int]()
				fs[i].SetResult(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				if done, _ := Wait(ctx, fs, AllCompleted); len(done) != n {
					b.Fatal(len(done))
				}
			}
		})
		b.Run(fmt.Sprintf("ALL_COMPLETED with %d futures completing meanwhile", n), func(b *testing.B) {
			b.ReportAllocs()
			fs := make([]*Future[int], n)
			for b.Loop() {
				for i := range fs {
					fs[i] = New[int]()
				}
				var wg sync.WaitGroup
				wg.Go(func() {
					for i, f := range fs {
						f.SetResult(i)
					}
				})
				if done, _ := Wait(ctx, fs, AllCompleted); len(done) != n {
					b.Fatal(len(done))
				}
				wg.Wait()
			}
		})
		b.Run(fmt.Sprintf("AsCompleted with %d futures completing meanwhile", n), func(b *testing.B) {
			b.ReportAllocs()
			fs := make([]*Future[int], n)
			for b.Loop() {
				for i := range fs {
					fs[i] = New[int]()
				}
				var wg sync.WaitGroup
				wg.Go(func() {
					for i, f := range fs {
						f.SetResult(i)
					}
				})
				for range AsCompleted(ctx, fs) {
				}
				wg.Wait()
			}
		})
	}
}
