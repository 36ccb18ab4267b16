package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by TryAcquire when another process holds the lock.
var ErrLocked = errors.New("service start lock is held")

// ErrRunning is wrapped by the error of CheckSocket's callers and Listen
// when a service already listens on the socket.
var ErrRunning = errors.New("service already running")

// Acquire takes the service's start lock, an exclusive flock(2) on
// p.Lock, waiting while another process (or another Acquire in this one)
// holds it; it creates the runtime directory first (Ensure). Two clients
// that race to start the service hold it in turn: the first looks at the
// socket (CheckSocket), starts the service and waits until it answers; the
// second then finds it running. release drops the lock; the kernel drops
// it too when the process dies, so a crashed client never leaves it held.
func Acquire(p Paths) (release func(), err error) {
	return lock(p, 0)
}

// TryAcquire is Acquire that does not wait: when the lock is held it
// returns an error that wraps ErrLocked and names the lock file.
func TryAcquire(p Paths) (release func(), err error) {
	return lock(p, unix.LOCK_NB)
}

func lock(p Paths, how int) (func(), error) {
	if err := p.Ensure(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p.Lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("service %s: start lock: %w", p.Name, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("service %s: %w (%s): another futures is starting it", p.Name, ErrLocked, p.Lock)
		}
		return nil, fmt.Errorf("service %s: start lock %s: %w", p.Name, p.Lock, err)
	}
	// Closing the file drops the flock: nothing else to undo.
	return func() { f.Close() }, nil
}

// SocketState is what CheckSocket found at a service's socket path.
type SocketState int

const (
	// NoSocket: nothing at the path; no service runs.
	NoSocket SocketState = iota
	// Live: a service accepts connections on the socket.
	Live
	// Stale: a socket file that nobody listens on, left by a service
	// that died (SIGKILL, OOM); CheckSocket has removed it.
	Stale
)

func (s SocketState) String() string {
	switch s {
	case NoSocket:
		return "no socket"
	case Live:
		return "live"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("SocketState(%d)", int(s))
}

// CheckSocket looks at p.Socket; call it with the start lock held
// (Acquire), or another client may be starting the service meanwhile. It
// connects to the socket: a connection accepted means Live; a socket file
// that refuses the connection is Stale and CheckSocket removes it, so that
// the caller may start a service there, and tell the user with
// StaleMessage. A path that is not a socket is an error naming it: the
// service never removes what it did not make.
func CheckSocket(ctx context.Context, p Paths) (SocketState, error) {
	fi, err := os.Lstat(p.Socket)
	if errors.Is(err, os.ErrNotExist) {
		return NoSocket, nil
	}
	if err != nil {
		return NoSocket, fmt.Errorf("service %s: %w", p.Name, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return NoSocket, fmt.Errorf("service %s: %s exists and is not a socket (%v); remove it", p.Name, p.Socket, fi.Mode().Type())
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", p.Socket)
	if err == nil {
		c.Close()
		return Live, nil
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return NoSocket, fmt.Errorf("service %s: checking socket %s: %w", p.Name, p.Socket, err)
	}
	if err := os.Remove(p.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Stale, fmt.Errorf("service %s: removing stale socket %s: %w", p.Name, p.Socket, err)
	}
	return Stale, nil
}

// StaleMessage is what a client tells the user after CheckSocket removed
// a stale socket.
func StaleMessage(p Paths) string {
	return fmt.Sprintf("service %s was not running (it died or was killed): removed its stale socket %s", p.Name, p.Socket)
}
