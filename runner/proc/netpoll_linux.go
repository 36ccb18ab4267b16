package proc

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
)

// The thread executor's jobs run inline too (exec_inline.go), but they wait
// on the runtime's poller rather than in poll(2): each job has an epoll set
// of its own holding its output pipes and its pidfd, and that set is itself
// on the runtime's poller (an epoll descriptor is readable while one of its
// members is ready). So a running job is one parked goroutine, Exec's: no
// reader goroutine per pipe, no thread blocked, and no buffer until there is
// output. A thousand jobs at -j1000 cost a thousand small goroutines.

// netPoller is a job's epoll set, watched by the runtime's poller.
type netPoller struct {
	f  *os.File // the epoll descriptor, on the runtime's poller
	rc syscall.RawConn
}

// newNetPoller returns an empty epoll set on the runtime's poller, or nil
// where there is none (the portable paths forced, or the poller refuses it).
func newNetPoller() *netPoller {
	if platform.Portable {
		return nil
	}
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil
	}
	// Only a descriptor on the poller has deadlines: this one must.
	if f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return nil
	}
	return &netPoller{f: f, rc: rc}
}

// watch adds fd to the set.
func (n *netPoller) watch(fd int) error {
	var err error
	if cerr := n.rc.Control(func(ep uintptr) {
		err = unix.EpollCtl(int(ep), unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	}); cerr != nil {
		return cerr
	}
	return err
}

// wait parks the goroutine until ready reports true, calling it once at
// once and again each time a member of the set is ready, or until timeout
// (< 0: no limit) has passed; it reports whether ready did.
func (n *netPoller) wait(timeout time.Duration, ready func() bool) bool {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	if n.f.SetReadDeadline(deadline) != nil {
		return ready()
	}
	var evs [4]unix.EpollEvent
	err := n.rc.Read(func(ep uintptr) bool {
		// Take the set's events, so that the next one wakes the poller
		// again; ready looks at the members themselves.
		for {
			if _, err := unix.EpollWait(int(ep), evs[:], 0); err != unix.EINTR {
				break
			}
		}
		return ready()
	})
	return err == nil
}

func (n *netPoller) close() { n.f.Close() }
