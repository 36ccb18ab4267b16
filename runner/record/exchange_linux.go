package record

import "golang.org/x/sys/unix"

// exchangeDirs swaps the paths a and b at once: renameat2
// RENAME_EXCHANGE.
func exchangeDirs(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
