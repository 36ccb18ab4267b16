package proc

import (
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
)

// The thread executor's jobs run inline too (exec_inline.go), but they wait
// on the runtime's poller rather than in poll(2). All running jobs share one
// epoll set (jobSet) holding their output pipes and pidfds, and that set is
// itself on the runtime's poller (an epoll descriptor is readable while one
// of its members is ready). One goroutine, serve, waits on it and wakes the
// job whose descriptor is ready; the job then looks at its descriptors with
// poll(2). So a running job is one parked goroutine, Exec's, and three
// descriptors (its two pipes and its pidfd): no reader goroutine per pipe,
// no thread blocked, no buffer until there is output, and no epoll set of
// its own (each exec of a job copies, then closes, every descriptor the
// runner holds: at -j1000 each one a job holds costs a thousand closes per
// exec). A job started with Start has no goroutine at all while it waits:
// serve calls its handler, which starts one to deliver its output or end
// it (start_async.go).
//
// The members are edge-triggered (EPOLLET): a ready member is reported once
// per change (new output, the end of a pipe, the exit), not for as long as
// it stays ready, which would have serve spin while a job is still busy
// delivering. A job that stops reading before a pipe is empty (readRaw's
// cap on the reads of one wakeup) gets no new edge for what is left; it
// does not need one: every wait starts by looking at the descriptors, so
// its next wait finds the pipe ready at once.
//
// serve runs while at least one job is in the set: the job that leaves it
// last stops it (a read deadline in the past) and waits for it to return,
// and the next job to join starts a new one. A descriptor is not taken out
// of the set: closing it does that (once no process holds it: a child
// between fork and exec may, for a moment), and an event for a job that has
// left, or a spurious one for a job still there, only makes it look.

// jobSet is the epoll set of this process's running jobs.
var jobSet pollSet

// pollSet is an epoll set on the runtime's poller, and the goroutine that
// waits on it.
type pollSet struct {
	mu      sync.Mutex            // guards the fields below
	f       *os.File              // the epoll descriptor, on the runtime's poller; nil until first needed
	rc      syscall.RawConn       // f's
	jobs    map[uint64]*netPoller // the members, by the token their events carry
	next    uint64                // the token of the next netPoller
	serving bool                  // serve has started and not yet returned
	served  chan struct{}         // closed when the last serve started has returned
}

// netPoller is a running job's place in jobSet: its descriptors are in the
// set with its token, and serve wakes it through wake, or calls its handler
// when it has one (a job that no goroutine waits for: Start).
type netPoller struct {
	set     *pollSet
	token   uint64
	wake    chan struct{} // buffered: one wakeup pending at most
	handler func()        // guarded by set.mu; called by serve with set.mu held
}

// newNetPoller returns a job's place in jobSet, with no descriptor yet, or
// nil where there is none (the portable paths forced, or no epoll set to be
// had).
func newNetPoller() *netPoller {
	if platform.Portable {
		return nil
	}
	return jobSet.join()
}

// join adds a job to the set, making the set when it is first needed and
// starting serve when the job is the only one; it returns nil if the set
// cannot be made.
func (s *pollSet) join() *netPoller {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.serving && len(s.jobs) == 0 {
		// The last job has left and stopped serve, which has not yet
		// returned: it must have, for its deadline to be reset.
		served := s.served
		s.mu.Unlock()
		<-served
		s.mu.Lock()
	}
	if s.f == nil && !s.open() {
		return nil
	}
	if !s.serving {
		if s.f.SetReadDeadline(time.Time{}) != nil {
			return nil
		}
		s.serving, s.served = true, make(chan struct{})
		go s.serve(s.served)
	}
	n := &netPoller{set: s, token: s.next, wake: make(chan struct{}, 1)}
	s.next++
	s.jobs[n.token] = n
	return n
}

// open makes the epoll set and puts it on the runtime's poller, and
// reports whether it could; s.mu is held.
func (s *pollSet) open() bool {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return false
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return false
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return false
	}
	// Only a descriptor on the poller has deadlines, which stop serve:
	// this one must.
	if f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return false
	}
	s.f, s.rc, s.jobs = f, rc, make(map[uint64]*netPoller)
	return true
}

// leave takes job n out of the set; the last job to leave stops serve and
// waits for it to return.
func (s *pollSet) leave(n *netPoller) {
	s.mu.Lock()
	delete(s.jobs, n.token)
	var served chan struct{}
	if len(s.jobs) == 0 {
		served = s.served
		// Wakes serve's read with os.ErrDeadlineExceeded. It cannot
		// fail: the descriptor is never closed.
		_ = s.f.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
	if served != nil {
		<-served
	}
}

// serve wakes, for as long as the set has jobs, the job whose descriptors
// are ready; it returns when the last job has left, and closes served.
func (s *pollSet) serve(served chan struct{}) {
	defer close(served)
	defer func() {
		s.mu.Lock()
		s.serving = false
		s.mu.Unlock()
	}()
	var evs [128]unix.EpollEvent
	// Returns only at the deadline that leave sets.
	_ = s.rc.Read(func(ep uintptr) bool {
		for {
			// Take every event, so that the next one wakes the
			// runtime's poller again (it watches the set edge-triggered).
			n, err := unix.EpollWait(int(ep), evs[:], 0)
			if err == unix.EINTR {
				continue
			}
			if n <= 0 {
				return false
			}
			s.mu.Lock()
			for _, ev := range evs[:n] {
				j, ok := s.jobs[tokenOf(ev)]
				switch {
				case !ok:
				case j.handler != nil:
					j.handler()
				default:
					j.poke()
				}
			}
			s.mu.Unlock()
			if n < len(evs) {
				return false
			}
		}
	})
}

// tokenOf is the token an event carries: the 64 bits of epoll_data, which
// unix.EpollEvent splits into Fd and Pad.
func tokenOf(ev unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// watch adds fd, a descriptor of the job, to the set.
func (n *netPoller) watch(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(uint32(n.token)), Pad: int32(uint32(n.token >> 32))}
	var err error
	if cerr := n.set.rc.Control(func(ep uintptr) {
		err = epollCtl(int(ep), unix.EPOLL_CTL_ADD, fd, &ev)
	}); cerr != nil {
		return cerr
	}
	return err
}

// epollCtl is epoll_ctl(2); a variable for a test of a set that refuses a
// member (ENOMEM; ENOSPC, past fs.epoll.max_user_watches).
var epollCtl = unix.EpollCtl

// wait parks the goroutine until ready reports true, calling it once at
// once and again each time one of the job's descriptors is ready, or until
// timeout (< 0: no limit) has passed; it reports whether ready did.
func (n *netPoller) wait(timeout time.Duration, ready func() bool) bool {
	if ready() {
		return true
	}
	var expired <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case <-n.wake:
			if ready() {
				return true
			}
		case <-expired:
			return false
		}
	}
}

// handle has serve call f, instead of waking wait, when one of the job's
// descriptors is ready. serve calls f with the set's lock held: f must not
// block, nor use the set.
func (n *netPoller) handle(f func()) {
	n.set.mu.Lock()
	n.handler = f
	n.set.mu.Unlock()
}

// poke wakes wait, as serve does for a job with no handler.
func (n *netPoller) poke() {
	select {
	case n.wake <- struct{}{}:
	default: // a wakeup is pending already
	}
}

// close takes the job out of the set.
func (n *netPoller) close() { n.set.leave(n) }
