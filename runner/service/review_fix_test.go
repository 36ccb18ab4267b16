package service

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// An Acquire pending when its attachment detaches returns at once (it
// used to wait until its own context ended), with errDetached: a wake by
// its context would return the context's error. No clock is read: a
// loaded machine may take long to run it, and that is no failure.
func TestDetachWakesAPendingAcquire(t *testing.T) {
	ex, _ := newTestExecutor(t, 1)
	a, _ := ex.Attach("a", 0)
	if _, err := ex.Acquire(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	b, _ := ex.Attach("b", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := ex.Acquire(ctx, b.ID); done <- err }()
	for queued := false; !queued; { // until its request waits in the queue
		ex.mu.Lock()
		queued = len(ex.queue) > 0
		ex.mu.Unlock()
		runtime.Gosched()
	}
	ex.Detach(b.ID)
	select {
	case err := <-done:
		if !errors.Is(err, errDetached) {
			t.Errorf("Acquire of a detached run returned %v, want %v", err, errDetached)
		}
	case <-time.After(time.Minute): // a hang detector only
		t.Errorf("Acquire of a detached run still waits after a minute: only its context ends it")
		cancel()
		<-done
	}
	ex.Detach(a.ID)
}

// A slot granted as the requester gives up is given back, not returned
// (it used to be, about half the time: select picks at random, and the
// slot was then held by nobody who knew, until the attachment ended).
func TestAGrantRacingACancelIsGivenBack(t *testing.T) {
	ex, _ := newTestExecutor(t, 1)
	a, _ := ex.Attach("a", 0)
	leaked := 0
	for range 50 {
		s, _ := ex.Acquire(context.Background(), a.ID)
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan error, 1)
		go func() { _, err := ex.Acquire(ctx, a.ID); got <- err }()
		for {
			ex.mu.Lock()
			n := len(ex.queue)
			ex.mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(5 * time.Millisecond) // paces only: lets it park in its select, so the grant races the cancel (the test holds either way)
		ex.mu.Lock()
		ex.releaseLocked(a, s)
		ex.dispatch() // grants the pending acquire
		cancel()      // as its client goes away
		ex.broadcast()
		ex.mu.Unlock()
		if err := <-got; err == nil {
			leaked++ // returned a slot with ctx done: the handler writes it to a closed connection
			ex.mu.Lock()
			for sl := range a.held {
				ex.releaseLocked(a, sl)
			}
			ex.mu.Unlock()
		}
	}
	if leaked > 0 {
		t.Errorf("%d of 50 acquires returned a slot though their context had ended", leaked)
	}
	ex.Detach(a.ID)
}

// After Drain no callback starts (one used to, that nothing waited for:
// the service would exit under it): AddCallback is refused.
func TestNoCallbackStartsAfterDrain(t *testing.T) {
	ex, _ := newTestExecutor(t, 1)
	ids := submitLines(t, ex, "true")
	if _, err := ex.Wait(context.Background(), ids, AllCompleted, 0, 0); err != nil {
		t.Fatal(err)
	}
	ex.Shutdown(context.Background(), false, false)
	drained := make(chan struct{})
	go func() { ex.Drain(); close(drained) }()
	<-drained
	// Refused: nothing would run it (before, it was taken, and ran with
	// nothing waiting for it).
	if _, err := ex.AddCallback(context.Background(), ids[0], []string{"true"}); !errors.Is(err, ErrShutdown) {
		t.Fatalf("AddCallback after Shutdown and Drain: %v, want ErrShutdown", err)
	}
}
