package input

import (
	"errors"
	"os"
	"syscall"

	"github.com/futures-cli/futures/internal/platform"
)

// reopenStdin opens stdin anew, a description of this process's own that
// os makes non-blocking (and so interruptible) without touching the one
// it shares with other processes: /proc/self/fd/0. With the portable
// paths forced, it fails as it does where there is no /proc, and stdin is
// read through a selectReader.
func reopenStdin() (*os.File, error) {
	if platform.Portable {
		return nil, errors.ErrUnsupported
	}
	return os.OpenFile("/proc/self/fd/0", os.O_RDONLY|syscall.O_NOCTTY, 0)
}
