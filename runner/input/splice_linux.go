package input

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/internal/platform"
)

// spliceTo moves n bytes at off of src into the pipe dst. handled is false
// when splice cannot be used at all (nothing was moved then).
func spliceTo(dst, src *os.File, off, n int64) (moved int64, handled bool, err error) {
	if platform.Portable {
		return 0, false, nil // the plain copy, as macOS and FreeBSD do
	}
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var serr error
	cerr := sc.Control(func(sfd uintptr) {
		werr := dc.Write(func(dfd uintptr) bool {
			for n > 0 {
				m, err := unix.Splice(int(sfd), &off, int(dfd), nil, int(min(n, 1<<30)), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN:
					return false // the pipe is full: wait until the job reads
				case err != nil:
					if moved == 0 && (err == unix.EINVAL || err == unix.ENOSYS) {
						return true // this file system cannot: copy instead
					}
					serr = err
					return true
				case m == 0:
					n = 0 // the file got shorter
					return true
				}
				moved += m
				n -= m
			}
			handled = true
			return true
		})
		if serr == nil && werr != nil {
			serr = werr
		}
	})
	if cerr != nil {
		return moved, moved > 0, cerr
	}
	if serr != nil {
		return moved, true, serr
	}
	return moved, handled || moved > 0, nil
}

// growPipe asks for the pipe f to hold up to n bytes (as far as
// /proc/sys/fs/pipe-max-size allows): a job then reads a block in fewer,
// larger reads. It is a hint: errors are ignored.
func growPipe(f *os.File, n int) {
	const most = 1 << 20 // the default pipe-max-size for an unprivileged user
	if n <= 64<<10 || platform.Portable {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, min(n, most))
	})
}
