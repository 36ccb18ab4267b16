//go:build linux || freebsd

package proc

import "syscall"

// pipeCloexec makes a pipe whose ends are closed on exec (pipe2
// O_CLOEXEC): no other job inherits them.
func pipeCloexec(fds *[2]int) error {
	return syscall.Pipe2(fds[:], syscall.O_CLOEXEC)
}
