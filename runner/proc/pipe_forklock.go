//go:build !linux && !freebsd

package proc

import "syscall"

// pipeCloexec makes a pipe whose ends are closed on exec, on a system
// without pipe2 (macOS): pipe, then FD_CLOEXEC, under syscall.ForkLock so
// that no fork in between lets a job inherit them, as os.Pipe does.
func pipeCloexec(fds *[2]int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := syscall.Pipe(fds[:]); err != nil {
		return err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return nil
}
