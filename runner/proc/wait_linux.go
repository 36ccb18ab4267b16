package proc

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
)

// waitExit blocks until process pid has exited. On Linux it leaves it a
// zombie (waitid WNOWAIT) and returns nil: until it is reaped (wait4), its
// pid and its process group id stay reserved, so signalling the group
// cannot hit another one. With the portable paths forced, it reaps it with
// wait4 and returns what wait4 said.
//
// It waits on the runtime's poller, through pidfd (the process's, or -1:
// none; it stays the caller's to close), where there is one: the goroutine
// parks and no OS thread is held, so a thousand running jobs are not a
// thousand threads blocked in waitid (each with its stacks). Without a
// pidfd (Linux before 5.3) it blocks in waitid.
func waitExit(pid, pidfd int) *exitStatus {
	if platform.Portable {
		return wait4(pid)
	}
	if waitPolled(pid, pidfd) {
		return nil
	}
	const pPID = 1     // P_PID
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if e != syscall.EINTR {
			return nil
		}
	}
}

// waitPolled waits on the runtime's poller, through a netPoller
// (netpoll_linux.go), for process pid, whose pidfd is pidfd, to exit,
// leaving it a zombie, and reports true; or reports false at once, having
// waited for nothing, when it cannot (no pidfd, or no netPoller).
func waitPolled(pid, pidfd int) bool {
	if pidfd < 0 {
		return false
	}
	np := newNetPoller()
	if np == nil {
		return false
	}
	defer np.close()
	if np.watch(pidfd) != nil {
		return false
	}
	np.wait(-1, func() bool {
		done, _ := exited(pid)
		return done
	})
	return true
}

// exited reports whether process pid has exited. On Linux it leaves it a
// zombie and returns a nil status; with the portable paths forced, it reaps
// it (wait4 WNOHANG) and returns its status.
func exited(pid int) (bool, *exitStatus) {
	if platform.Portable {
		st := tryWait4(pid)
		return st != nil, st
	}
	const pPID = 1     // P_PID
	var info [128]byte // siginfo_t; si_pid at offset 16
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT|syscall.WNOHANG, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		return e != 0 || *(*int32)(unsafe.Pointer(&info[16])) != 0, nil
	}
}

// havePidfd reports whether the kernel has pidfds (Linux 5.3: pidfd_open,
// which came after clone's CLONE_PIDFD, 5.2); a variable for a test of what
// happens without them.
var havePidfd = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// pidfdRefused is set once a clone that asked for a pidfd has been
// refused where the same start without one went through: pidfds do not
// work here, whatever pidfd_open says (a seccomp filter that allows
// pidfd_open but refuses clone's CLONE_PIDFD, as Go's os package checks
// for; a kernel emulation without it), and no later job asks.
var pidfdRefused atomic.Bool

// forkExecPidfd starts a child as syscall.ForkExec does, with the clone
// that makes it also making a pidfd of it (CLONE_PIDFD; readable once the
// child has exited) where there are pidfds and the portable paths are not
// forced; pidfd is -1 otherwise. attr.Sys must not be nil; its PidFD is
// the function's to set.
//
// A clone that refuses the pidfd (EINVAL, EPERM, ENOSYS) refuses the
// child: that start is made again without the pidfd. Those errnos may also
// be the exec's own (nothing tells them apart), so the refusal is
// remembered (pidfdRefused) only when the start without the pidfd went
// through or failed otherwise; a job whose exec fails so costs two forks.
func forkExecPidfd(path string, argv []string, attr *syscall.ProcAttr) (pid, pidfd int, err error) {
	pidfd = -1
	if platform.Portable || pidfdRefused.Load() || !havePidfd() {
		attr.Sys.PidFD = nil
		pid, err = forkExec(path, argv, attr)
		return pid, -1, err
	}
	attr.Sys.PidFD = &pidfd
	pid, err = forkExec(path, argv, attr)
	if err == nil {
		return pid, pidfd, nil
	}
	first, ok := err.(syscall.Errno)
	if !ok || (first != syscall.EINVAL && first != syscall.EPERM && first != syscall.ENOSYS) {
		return 0, -1, err // a failed exec has closed the pidfd
	}
	attr.Sys.PidFD = nil
	pid, err = forkExec(path, argv, attr)
	if err == nil || err != first {
		pidfdRefused.Store(true)
	}
	if err != nil {
		return 0, -1, err
	}
	return pid, -1, nil
}

// maxRSSKB is the rusage's maximum resident set size in KiB: Linux counts
// it in KiB.
func maxRSSKB(ru *syscall.Rusage) int64 { return ru.Maxrss }
