//go:build darwin || freebsd

package shell

import "golang.org/x/sys/unix"

// posixArgMax is the room POSIX promises at least (_POSIX_ARG_MAX is 4096;
// every BSD gives far more): what is used if kern.argmax cannot be read.
const posixArgMax = 64 << 10

// systemArgRoom returns the room for arguments and environment,
// kern.argmax (ARG_MAX: 1 MiB on macOS), and the most
// one argument may take: all of it, these systems have no limit of their
// own per argument.
func systemArgRoom() (room, arg int) {
	n, err := unix.SysctlUint32("kern.argmax")
	if err != nil || n == 0 {
		return posixArgMax, posixArgMax
	}
	return int(n), int(n)
}
