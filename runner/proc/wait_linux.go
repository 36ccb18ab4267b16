package proc

import (
	"os"
	"syscall"
	"unsafe"

	"github.com/futures-cli/futures/internal/platform"
)

// waitExit blocks until process pid has exited. On Linux it leaves it a
// zombie (waitid WNOWAIT) and returns nil: until os.Process.Wait reaps it,
// its pid and its process group id stay reserved, so signalling the group
// cannot hit another one. With the portable paths forced, it reaps it with
// wait4 and returns what wait4 said.
//
// It waits on the runtime's poller, through a pidfd, where there is one: the
// goroutine parks and no OS thread is held, so a thousand running jobs are
// not a thousand threads blocked in waitid (each with its stacks). Without a
// pidfd (Linux before 5.3) it blocks in waitid.
func waitExit(pid int) *exitStatus {
	if platform.Portable {
		return wait4(pid)
	}
	if waitPolled(pid) {
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

// waitPolled waits on the runtime's poller for process pid to exit, leaving
// it a zombie, and reports true; or reports false at once, having waited for
// nothing, when it cannot (no pidfd, or the poller refuses it).
func waitPolled(pid int) bool {
	fd := openPidfd(pid)
	if fd < 0 {
		return false
	}
	// Non-blocking, so that os.NewFile puts it on the poller: a pidfd is
	// readable once its process has exited.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Read(func(uintptr) bool {
		done, _ := exited(pid)
		return done
	}) == nil
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

// sysPidfdOpen is the pidfd_open(2) system call (Linux 5.3); a variable
// for a test of what happens without it.
var sysPidfdOpen uintptr = 434

// openPidfd returns a pidfd of process pid, which poll(2) reports readable
// once the process has exited, or -1 where there is none (Linux before
// 5.3; the portable paths forced).
func openPidfd(pid int) int {
	if platform.Portable {
		return -1
	}
	fd, _, e := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if e != 0 {
		return -1
	}
	return int(fd)
}

// maxRSSKB is the rusage's maximum resident set size in KiB: Linux counts
// it in KiB.
func maxRSSKB(ru *syscall.Rusage) int64 { return ru.Maxrss }
