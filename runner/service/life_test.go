package service

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

// runService runs Run on p in a goroutine and waits until it answers; the
// returned channel gets Run's error. The cleanup stops it when a test
// failed before it did.
func runService(t *testing.T, p Paths) (cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- Run(ctx, p, RunOptions{Version: "test"}) }()
	t.Cleanup(cancel)
	c := Dial(p)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second) // a hang detector only
	for {
		if _, err := c.Service(ctx); err == nil {
			return cancel, ch
		}
		select {
		case err := <-ch:
			t.Fatalf("Run returned before it answered: %v", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the service never answered")
		}
	}
}

// awaitRun returns Run's error, failing t when it does not return.
func awaitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRunBreaksUnfinishedAndShutsDown(t *testing.T) {
	p := testPaths(t, "life")
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, err := st.Submit(ctx, []store.Spec{{Line: "a"}, {Line: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Start(ctx, ids[0], "1", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	_, done := runService(t, p)
	if !Alive(p) {
		t.Error("Alive = false while the service runs")
	}
	// A second service is refused while the first holds the pid lock.
	if err := Run(ctx, p, RunOptions{}); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	// A bad shutdown body is a 400 and the service goes on.
	c := Dial(p)
	defer c.Close()
	var herr *Error
	if err := c.Do(ctx, http.MethodPost, "/v1/shutdown", map[string]any{"wait": "yes"}, nil); !errors.As(err, &herr) || herr.Status != http.StatusBadRequest {
		t.Errorf("bad body: %v, want a 400", err)
	}
	if err := Shutdown(ctx, p, ShutdownRequest{Wait: true}); err != nil {
		t.Fatal(err)
	}
	// Shutdown with Wait returned: the process (here Run) let go.
	if Alive(p) {
		t.Error("Alive = true after Shutdown with Wait")
	}
	if err := awaitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Lstat(p.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Run: %v, want it removed", err)
	}
	if err := Shutdown(ctx, p, ShutdownRequest{Wait: true}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Shutdown with no service: %v, want ErrNotRunning", err)
	}

	st, err = store.Open(p.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.List(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !f.Broken || f.Error != BrokenReason {
			t.Errorf("%%%d: broken %v, error %q; want broken by the dead service", f.ID, f.Broken, f.Error)
		}
	}
}

func TestRunStopsOnContext(t *testing.T) {
	p := testPaths(t, "ctx")
	cancel, done := runService(t, p)
	cancel()
	if err := awaitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Lstat(p.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Run: %v, want it removed", err)
	}
	b, err := os.ReadFile(p.LogPath())
	if err != nil || len(b) == 0 {
		t.Errorf("log %s: %q, %v; want what the service did", p.LogPath(), b, err)
	}
}

func TestBreakIfDead(t *testing.T) {
	p := testPaths(t, "dead")
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	cancel, done := runService(t, p)
	ids, err := st.Submit(ctx, []store.Spec{{Line: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	// A live service's futures are its own.
	if broken, err := BreakIfDead(ctx, p, st); err != nil || len(broken) != 0 {
		t.Errorf("BreakIfDead with the service running = %v, %v; want nothing broken", broken, err)
	}
	cancel()
	if err := awaitRun(t, done); err != nil {
		t.Fatal(err)
	}
	broken, err := BreakIfDead(ctx, p, st)
	if err != nil || len(broken) != 1 || broken[0] != ids[0] {
		t.Errorf("BreakIfDead with no service = %v, %v; want [%d]", broken, err, ids[0])
	}
}
