package proc

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/runner/internal/copybuf"
)

// Inline mode (ExecOptions.Inline): Exec reads the job's output pipes in
// its own goroutine, with poll(2) on the pipes and on the pidfd of the job's
// main process (startProcess), instead of with a goroutine per pipe on the runtime's
// poller and a waitid for the exit.
//
// Why: in a process that runs one job at a time (a process-pool worker) the
// goroutines cost more than the job's own fork and exec. Each is started
// while every other thread of the process sleeps, so the runtime wakes one
// to run it; each parks on the poller, which a thread must then wait on as
// well as the thread blocked in waitid; and all of them wake again when the
// job ends. Measured on a 2-CPU VM: about 90 us of CPU a job in a worker,
// against 45 us in the thread executor's busier process, where the poller
// and the threads are shared by the jobs running at once (and where this
// mode would cost more: one thread blocked in poll(2) per job). Inline, a
// worker sleeps in one poll(2) per job and wakes when there is output or the
// job has ended.
//
// The semantics are those of the goroutines: output is delivered as it
// comes; once the main process has exited and its group been KILLed, the
// pipes are read to their end, for at most drainDelay, then what they hold
// is taken and a pipe still open is reported as held (heldOutput). Without
// a pidfd (Linux before 5.3), the exit is checked at least every 10 ms
// while a pipe is open, and waited for once none is.

// rawFD is the read end of an output pipe in inline mode: a non-blocking
// descriptor that the runtime's poller does not know.
type rawFD struct{ fd int }

// rawOutput makes a pipe for w whose read end is raw: the child gets the
// write end.
func (p *plumbing) rawOutput(w io.Writer) (*os.File, error) {
	var fds [2]int
	if err := pipeCloexec(&fds); err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	if p.np != nil && p.np.watch(fds[0]) != nil {
		// The set refused it (ENOMEM; ENOSPC, past max_user_watches):
		// the job leaves the set and its pipes are read through
		// poll(2), as where there is no set. A pipe already in the set
		// stays there, its events for nobody, until it is closed.
		p.np.close()
		p.np = nil
	}
	p.streams = append(p.streams, &stream{raw: &rawFD{fds[0]}, w: w})
	pw := os.NewFile(uintptr(fds[1]), "|1") // blocking: not on the poller
	p.childEnds = append(p.childEnds, pw)
	return pw, nil
}

// rawOpen returns the number of raw pipes not yet at their end.
func (p *plumbing) rawOpen() int {
	n := 0
	for _, s := range p.streams {
		if s.raw != nil {
			n++
		}
	}
	return n
}

// pumpUntilExit copies the raw pipes' output until the job's main process
// pid, whose pidfd is pidfd (-1: none; it stays the caller's to close), has
// exited, and reports true; it leaves the process a zombie as waitExit
// does, or returns its status when the portable wait reaped it. It reports
// false, having done nothing, when there is no raw pipe.
func (p *plumbing) pumpUntilExit(pid, pidfd int) (bool, *exitStatus) {
	if p.rawOpen() == 0 {
		return false, nil
	}
	if pidfd >= 0 && p.np != nil && p.np.watch(pidfd) != nil {
		// The set refused it (ENOMEM; ENOSPC, past max_user_watches):
		// its exit would wake nobody. Check it by hand, as without a
		// pidfd; the raw pipes have no reader but this loop, so it must
		// not hand the wait over to waitExit while they are open.
		pidfd = -1
	}
	for {
		if pidfd >= 0 {
			done, err := p.poll(pidfd, -1)
			switch {
			case done:
				return true, nil
			case err != nil && err != syscall.EINTR:
				pidfd = -1 // cannot happen; if it does, check the exit by hand
			}
			continue
		}
		if p.rawOpen() == 0 {
			return true, waitExit(pid, -1)
		}
		if _, err := p.poll(-1, 10*time.Millisecond); err != nil && err != syscall.EINTR {
			time.Sleep(time.Millisecond)
		}
		if done, st := exited(pid); done {
			return true, st
		}
	}
}

// pumpUntil reads the raw pipes to their end, once the job's group is
// gone, until deadline at most: then it takes what they hold, and marks a
// pipe still open as held.
func (p *plumbing) pumpUntil(deadline time.Time) {
	for p.rawOpen() > 0 {
		d := time.Until(deadline)
		if d <= 0 {
			for _, s := range p.streams {
				if s.raw != nil {
					s.held = s.takeRaw(p.readBuf())
				}
			}
			return
		}
		if _, err := p.poll(-1, d); err != nil && err != syscall.EINTR {
			time.Sleep(time.Millisecond)
		}
	}
}

// poll waits, for at most timeout (< 0: no limit), until a raw pipe has
// output or is at its end, or pidfd (if >= 0) says that its process has
// exited; it copies what the pipes hold and reports whether pidfd did.
// Its error is poll(2)'s: EINTR, say. With a netPoller it waits on the
// runtime's poller (netpoll_linux.go); otherwise in poll(2).
func (p *plumbing) poll(pidfd int, timeout time.Duration) (done bool, err error) {
	fds, of, n := p.pollFds(pidfd)
	defer p.releaseBuf() // a job waiting for output holds no buffer
	if p.np != nil {
		p.np.wait(timeout, func() bool {
			var any bool
			done, any, err = p.service(fds[:n], &of, 0)
			return any || err != nil
		})
		return done, err
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	done, _, err = p.service(fds[:n], &of, ms)
	return done, err
}

// pollFds returns the poll(2) entries of the raw pipes still open and of
// pidfd (-1: none), the stream of each pipe's entry, and how many there are.
func (p *plumbing) pollFds(pidfd int) (fds [3]unix.PollFd, of [3]*stream, n int) {
	for _, s := range p.streams {
		if s.raw != nil && n < 2 {
			fds[n], of[n] = unix.PollFd{Fd: int32(s.raw.fd), Events: unix.POLLIN}, s
			n++
		}
	}
	if pidfd >= 0 {
		fds[n] = unix.PollFd{Fd: int32(pidfd), Events: unix.POLLIN}
		n++
	}
	return fds, of, n
}

// service waits in poll(2) for at most ms (-1: no limit; 0: not at all)
// for fds, copies what the ready pipes among them (of) hold, and reports
// whether the pidfd was ready, and whether any was.
func (p *plumbing) service(fds []unix.PollFd, of *[3]*stream, ms int) (done, any bool, err error) {
	if _, err := unix.Poll(fds, ms); err != nil {
		return false, false, err
	}
	for i := range fds {
		switch {
		case fds[i].Revents == 0:
		case of[i] != nil:
			any = true
			of[i].readRaw(p.readBuf())
		default:
			done, any = true, true
		}
	}
	return done, any, nil
}

// readBuf returns the buffer the raw pipes are read through, taken from
// the pool when first needed.
func (p *plumbing) readBuf() []byte {
	if p.buf == nil {
		p.buf = copybuf.Pool.Get().(*[]byte)
	}
	return *p.buf
}

// releaseBuf puts the read buffer back in the pool, if one was taken.
func (p *plumbing) releaseBuf() {
	if p.buf != nil {
		copybuf.Pool.Put(p.buf)
		p.buf = nil
	}
}

// readRawChunks bounds the reads of one readRaw: a writer that never lets
// the pipe run empty (a detached grandchild printing for ever) must not
// keep the caller from its deadline. What is left is read at the next
// poll, which looks at the pipes before it waits.
const readRawChunks = 16

// readRaw delivers what the raw pipe holds, up to readRawChunks reads; at
// its end (or on an error, which ends it too) it closes it.
func (s *stream) readRaw(buf []byte) {
	for range readRawChunks {
		n, err := syscall.Read(s.raw.fd, buf)
		switch {
		case n > 0:
			s.deliver(buf[:n])
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return
		default:
			s.closeRaw()
			return
		}
	}
}

// takeRaw delivers what the raw pipe holds now, without waiting for more,
// closes it, and reports whether it was still open (held by a process that
// left the job's group), as drainBuffered does.
func (s *stream) takeRaw(buf []byte) (held bool) {
	defer s.closeRaw()
	for range 64 { // at most a few pipe buffers: a detached writer may never stop
		n, err := syscall.Read(s.raw.fd, buf)
		switch {
		case n > 0:
			s.deliver(buf[:n])
		case err == syscall.EINTR:
		case err == nil: // EOF
			return false
		default: // EAGAIN: empty, and held open
			return true
		}
	}
	return true
}

func (s *stream) closeRaw() {
	if s.raw != nil {
		syscall.Close(s.raw.fd)
		s.raw = nil
	}
}
