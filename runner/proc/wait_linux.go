package proc

import (
	"syscall"
	"unsafe"

	"github.com/futures-cli/futures/internal/platform"
)

// waitExit blocks until process pid has exited. On Linux it leaves it a
// zombie (waitid WNOWAIT) and returns nil: until os.Process.Wait reaps it,
// its pid and its process group id stay reserved, so signalling the group
// cannot hit another one. With the portable paths forced, it reaps it with
// wait4 and returns what wait4 said.
func waitExit(pid int) *exitStatus {
	if platform.Portable {
		return wait4(pid)
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
