package service

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// makeStale leaves a socket file at p.Socket that nobody listens on, as a
// service killed with SIGKILL does.
func makeStale(t *testing.T, p Paths) {
	t.Helper()
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p.Socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(p.Socket); err != nil {
		t.Fatalf("the stale socket is not there: %v", err)
	}
}

func TestStaleSocketIsRemovedUnderTheLock(t *testing.T) {
	p := testPaths(t, "stale")
	makeStale(t, p)
	// Listen alone does not take over a socket path: it says why.
	if _, err := Listen(p, nil); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), p.Socket) || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("Listen on a stale socket = %v, want ErrRunning naming %s and staleness", err, p.Socket)
	}
	release, err := Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	state, err := CheckSocket(ctx(t), p)
	if err != nil || state != Stale {
		t.Fatalf("CheckSocket = %v, %v; want stale", state, err)
	}
	if _, err := os.Lstat(p.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale socket is still there: %v", err)
	}
	msg := StaleMessage(p)
	if !strings.Contains(msg, "service stale was not running") || !strings.Contains(msg, "removed its stale socket "+p.Socket) {
		t.Errorf("StaleMessage = %q", msg)
	}
	if state, err := CheckSocket(ctx(t), p); err != nil || state != NoSocket {
		t.Fatalf("after removal CheckSocket = %v, %v; want no socket", state, err)
	}
	// Now a service can listen there.
	ln, err := Listen(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if state, err := CheckSocket(ctx(t), p); err != nil || state != Live {
		t.Fatalf("with a listener CheckSocket = %v, %v; want live", state, err)
	}
}

func TestCheckSocketLeavesOtherFilesAlone(t *testing.T) {
	p := testPaths(t, "notsock")
	p.Ensure()
	os.WriteFile(p.Socket, []byte("mine"), 0o600)
	_, err := CheckSocket(ctx(t), p)
	if err == nil || !strings.Contains(err.Error(), p.Socket+" exists and is not a socket") {
		t.Fatalf("CheckSocket = %v, want an error naming the file", err)
	}
	if b, _ := os.ReadFile(p.Socket); string(b) != "mine" {
		t.Fatal("CheckSocket touched a file that is not a socket")
	}
}

func TestTryAcquireWhileHeld(t *testing.T) {
	p := testPaths(t, "held")
	release, err := Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryAcquire(p)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), p.Lock) {
		t.Fatalf("TryAcquire while held = %v, want ErrLocked naming %s", err, p.Lock)
	}
	fi, err := os.Stat(p.Lock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v, want mode 0600", fi, err)
	}
	release()
	release2, err := TryAcquire(p)
	if err != nil {
		t.Fatalf("TryAcquire after release: %v", err)
	}
	release2()
}

// Clients racing to start the service hold the lock in turn: exactly one
// finds no socket and starts a service, the others find it live.
func TestRacingClientsStartOneService(t *testing.T) {
	p := testPaths(t, "race")
	const clients = 8
	var (
		inside, started, live atomic.Int32
		wg                    sync.WaitGroup
		mu                    sync.Mutex
		listeners             []net.Listener
	)
	start := make(chan struct{})
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			release, err := Acquire(p)
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d clients hold the lock at once", n)
			}
			defer inside.Add(-1)
			state, err := CheckSocket(ctx(t), p)
			if err != nil {
				t.Error(err)
				return
			}
			switch state {
			case Live:
				live.Add(1)
			case NoSocket, Stale:
				ln, err := Listen(p, nil)
				if err != nil {
					t.Error(err)
					return
				}
				started.Add(1)
				mu.Lock()
				listeners = append(listeners, ln)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, ln := range listeners {
		ln.Close()
	}
	if started.Load() != 1 || live.Load() != clients-1 {
		t.Fatalf("%d started a service, %d found it live; want 1 and %d", started.Load(), live.Load(), clients-1)
	}
}
