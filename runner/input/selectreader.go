package input

import (
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// selectReader reads a blocking descriptor that this process shares with
// others (its stdin) and cannot open anew (no /proc: macOS, FreeBSD),
// interruptibly and without making it non-blocking: each Read waits in
// select(2) for the descriptor or for a pipe of its own, which stop closes;
// a Read then returns os.ErrDeadlineExceeded, now and from then on, as a
// file past its read deadline does. select, not poll: macOS's poll does
// not serve terminals.
type selectReader struct {
	fd           int
	stopR, stopW int // the stop pipe: stop closes stopW, close stopR

	mu     sync.RWMutex // held for reading by Read, for writing by close
	closed bool         // guarded by mu
	once   sync.Once    // stop's
}

// newSelectReader returns a selectReader of fd, or an error when the pipe
// cannot be made or its descriptors are beyond what select takes.
func newSelectReader(fd int) (*selectReader, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("stdin: stop pipe: %w", err)
	}
	if fd >= unix.FD_SETSIZE || p[0] >= unix.FD_SETSIZE {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, fmt.Errorf("stdin: descriptor %d is beyond select's %d", max(fd, p[0]), unix.FD_SETSIZE)
	}
	return &selectReader{fd: fd, stopR: p[0], stopW: p[1]}, nil
}

// Read waits until the descriptor is readable, then reads it once; it
// returns os.ErrDeadlineExceeded once stop has been called.
func (r *selectReader) Read(b []byte) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return 0, os.ErrDeadlineExceeded
	}
	for {
		var set unix.FdSet
		set.Set(r.fd)
		set.Set(r.stopR)
		_, err := unix.Select(max(r.fd, r.stopR)+1, &set, nil, nil, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, fmt.Errorf("stdin: select: %w", err)
		case set.IsSet(r.stopR):
			return 0, os.ErrDeadlineExceeded
		case !set.IsSet(r.fd):
			continue
		}
		if n, ok, err := r.readOnce(b); ok {
			return n, err
		}
	}
}

// readOnce reads the descriptor, which select said is readable; ok is
// false when there was nothing to read after all (EAGAIN: the descriptor
// is non-blocking, and another process took the data).
func (r *selectReader) readOnce(b []byte) (n int, ok bool, err error) {
	for {
		n, err := syscall.Read(r.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, false, nil
		case err != nil:
			return 0, true, err
		case n == 0 && len(b) > 0:
			return 0, true, io.EOF
		}
		return n, true, nil
	}
}

// stop makes every Read, the one waiting and those to come, return
// os.ErrDeadlineExceeded.
func (r *selectReader) stop() {
	r.once.Do(func() { syscall.Close(r.stopW) })
}

// close stops r, waits for a Read in progress to return, and closes the
// stop pipe. The descriptor read is not closed: it is not r's.
func (r *selectReader) close() {
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		syscall.Close(r.stopR)
	}
}
