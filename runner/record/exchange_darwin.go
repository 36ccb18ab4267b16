package record

import "golang.org/x/sys/unix"

// exchangeDirs swaps the paths a and b at once: renamex_np RENAME_SWAP.
func exchangeDirs(a, b string) error {
	return unix.RenamexNp(a, b, unix.RENAME_SWAP)
}
