package service

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/service/store"
)

func TestSatisfied(t *testing.T) {
	ok := &store.Future{State: future.Finished, ExitCode: 0}
	bad := &store.Future{State: future.Finished, ExitCode: 3}
	cancelled := &store.Future{State: future.Cancelled}
	broken := &store.Future{State: future.Finished, ExitCode: -1, Broken: true, Error: "broken"}
	running := &store.Future{State: future.Running}
	pending := &store.Future{State: future.Pending}
	for _, c := range []struct {
		name string
		fs   []*store.Future
		rw   ReturnWhen
		want bool
	}{
		{"all done", []*store.Future{ok, bad}, AllCompleted, true},
		{"one running", []*store.Future{ok, running}, AllCompleted, false},
		{"first completed", []*store.Future{pending, ok}, FirstCompleted, true},
		{"none completed", []*store.Future{pending, running}, FirstCompleted, false},
		{"first exception: a failure", []*store.Future{running, bad}, FirstException, true},
		{"first exception: a cancel", []*store.Future{running, cancelled}, FirstException, true},
		{"first exception: broken", []*store.Future{running, broken}, FirstException, true},
		{"first exception: successes only, one running", []*store.Future{ok, running}, FirstException, false},
		{"first exception: all succeeded", []*store.Future{ok, ok}, FirstException, true},
		{"no futures", nil, FirstCompleted, true},
	} {
		if got := Satisfied(c.fs, c.rw); got != c.want {
			t.Errorf("%s: Satisfied = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"%1", 1}, {"%42", 42}, {"1", 0}, {"%0", 0}, {"%-3", 0}, {"%x", 0}, {"%", 0}, {"", 0}} {
		got, err := ParseID(c.in)
		if got != c.want || (err == nil) != (c.want != 0) {
			t.Errorf("ParseID(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseReturnWhen(t *testing.T) {
	for in, want := range map[string]ReturnWhen{"": AllCompleted, "first_completed": FirstCompleted, "FIRST_EXCEPTION": FirstException} {
		if got, err := ParseReturnWhen(in); err != nil || got != want {
			t.Errorf("ParseReturnWhen(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseReturnWhen("SOON"); err == nil {
		t.Error("ParseReturnWhen(SOON) gave no error")
	}
}

// newTestExecutor is an executor of workers slots on a store in a
// temporary directory; the test drains it at its end.
func newTestExecutor(t *testing.T, workers int) (*Executor, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ex := NewExecutor(st, ExecOptions{Workers: workers, Name: "test", Grace: time.Second})
	t.Cleanup(func() {
		ex.Shutdown(context.Background(), true, true)
		ex.Drain()
		st.Close()
	})
	return ex, st
}

// awaitRunning waits until each of ids is RUNNING: each move to RUNNING
// is a change of the executor's (changed). A minute bounds the wait.
func awaitRunning(t *testing.T, ex *Executor, ids []int64) {
	t.Helper()
	deadline := time.After(time.Minute) // a hang detector only
	for {
		ex.mu.Lock()
		changed := ex.changed
		ex.mu.Unlock()
		fs, err := ex.get(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		started := 0
		for _, f := range fs {
			if f.State == future.Running {
				started++
			}
		}
		if started == len(ids) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d of %d futures RUNNING after a minute", started, len(ids))
		}
	}
}

func submitLines(t *testing.T, ex *Executor, lines ...string) []int64 {
	t.Helper()
	specs := make([]store.Spec, len(lines))
	for i, l := range lines {
		specs[i] = store.Spec{Line: l}
	}
	ids, err := ex.Submit(context.Background(), Submission{Specs: specs})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestExecutorRunsWaitsAndCancels(t *testing.T) {
	ex, st := newTestExecutor(t, 1)
	ctx := context.Background()
	dir := t.TempDir()
	// The first job holds the only slot until the test lets it go.
	ids := submitLines(t, ex, "while [ ! -e "+dir+"/go ]; do sleep 0.01; done; exit 3", "echo second")
	// Submit queues the first one; its move to RUNNING is on another
	// goroutine. Still PENDING, a cancel --terminate cancels it: nothing
	// to terminate.
	awaitRunning(t, ex, ids[:1])
	fs, err := ex.Wait(ctx, ids, FirstCompleted, 50*time.Millisecond, 0)
	if err != nil || Satisfied(fs, FirstCompleted) {
		t.Fatalf("Wait before any is done = %v, %v; want a timeout", fs, err)
	}
	res, err := ex.Cancel(ctx, ids[1:], false, 0)
	if err != nil || len(res.NotCancelled) != 0 {
		t.Fatalf("Cancel of the pending one = %+v, %v", res, err)
	}
	res, err = ex.Cancel(ctx, ids[:1], true, 100*time.Millisecond)
	if err != nil || len(res.Terminated) != 1 {
		t.Fatalf("Cancel --terminate of the running one = %+v, %v", res, err)
	}
	fs, err = ex.Wait(ctx, ids, AllCompleted, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].State != future.Finished || fs[0].Signal == "" || fs[1].State != future.Cancelled {
		t.Errorf("after cancels: %+v %+v; want FINISHED by a signal, CANCELLED", *fs[0], *fs[1])
	}
	if _, err := ex.Wait(ctx, []int64{99}, AllCompleted, 0, 0); !errors.Is(err, store.ErrNoFuture) {
		t.Errorf("Wait on an unknown id: %v, want ErrNoFuture", err)
	}
	_ = st
}

// TestLeasesShareTheSlots: an attached run's slots and the futures
// together never exceed Workers, and a detached attachment's slots come
// back.
func TestLeasesShareTheSlots(t *testing.T) {
	ex, _ := newTestExecutor(t, 2)
	ctx := context.Background()
	a, err := ex.Attach("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := ex.Acquire(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := ex.Acquire(ctx, a.ID)
	if err != nil || s1 == s2 {
		t.Fatalf("second slot %d, %v (first %d)", s2, err, s1)
	}
	// Both slots leased: a future waits, and so does a third acquire.
	ids := submitLines(t, ex, "true")
	fs, _ := ex.Wait(ctx, ids, AllCompleted, 50*time.Millisecond, 0)
	if fs[0].State != future.Pending {
		t.Fatalf("future ran with every slot leased: %v", fs[0].State)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = ex.Acquire(tctx, a.ID)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third acquire: %v, want to wait until its context ends", err)
	}
	ex.Release(a.ID, s1)
	if fs, err = ex.Wait(ctx, ids, AllCompleted, 0, 0); err != nil || fs[0].State != future.Finished {
		t.Fatalf("future after a release: %v, %v", fs, err)
	}
	// Detach gives back the slot still held: two acquires by another run
	// then succeed.
	ex.Detach(a.ID)
	b, _ := ex.Attach("test", 0)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ex.Acquire(ctx, b.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ex.Detach(b.ID)
}

func TestSubmitAfterShutdownIsRefused(t *testing.T) {
	ex, _ := newTestExecutor(t, 1)
	ex.Shutdown(context.Background(), false, false)
	if _, err := ex.Submit(context.Background(), Submission{Specs: []store.Spec{{Line: "true"}}}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Submit after Shutdown: %v, want ErrShutdown", err)
	}
	if _, err := ex.Attach("x", 0); !errors.Is(err, ErrShutdown) {
		t.Errorf("Attach after Shutdown: %v, want ErrShutdown", err)
	}
}
