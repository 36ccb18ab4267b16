//go:build !linux

package input

import "os"

// spliceTo reports that splice(2) cannot be used: it is Linux's; the
// caller copies.
func spliceTo(dst, src *os.File, off, n int64) (moved int64, handled bool, err error) {
	return 0, false, nil
}

// growPipe does nothing: a pipe's size is Linux's to set (F_SETPIPE_SZ);
// on the BSDs and macOS a pipe grows by itself.
func growPipe(f *os.File, n int) {}
