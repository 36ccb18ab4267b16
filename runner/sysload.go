package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
)

// The load average and the available memory that --load and --memfree
// compare to come from the system: /proc's loadavg and meminfo on Linux
// (sysload_linux.go), sysctl on FreeBSD and macOS (sysload_bsd.go); a
// system without a reading refuses the flag (errUnsupported), naming
// itself. The parsers of what sysctl returns are here, where a test on
// Linux reaches them.

// loadAvgReader and memAvailableReader are the system's readings:
// variables, for a test of a system that has none.
var (
	loadAvgReader      = systemLoadAvg
	memAvailableReader = systemMemAvailable
)

// unsupportedError is the error of a reading this system cannot take: the
// flag that needs it is refused, with a message naming the system. It
// matches errors.ErrUnsupported.
type unsupportedError struct{ flag, why string }

func (e unsupportedError) Error() string {
	return fmt.Sprintf("%s is not supported on %s (%s)", e.flag, runtime.GOOS, e.why)
}

func (e unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// flagError is err, the failure of flag's first reading, as it is
// reported: an unsupportedError as it is, another with the flag before it.
func flagError(flag string, err error) error {
	var u unsupportedError
	if errors.As(err, &u) {
		return err
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// parseLoadavg decodes the 1-minute load average from sysctl vm.loadavg,
// a struct loadavg in the machine's byte order: three fixed-point 32-bit
// averages, then their scale, a C long (8 bytes on a 64-bit system, after
// 4 bytes of padding; 4 bytes on a 32-bit one).
func parseLoadavg(b []byte) (float64, error) {
	var scale int64
	switch len(b) {
	case 24:
		scale = int64(binary.NativeEndian.Uint64(b[16:]))
	case 16:
		scale = int64(int32(binary.NativeEndian.Uint32(b[12:])))
	default:
		return 0, fmt.Errorf("sysctl vm.loadavg: %d bytes, want 16 or 24", len(b))
	}
	if scale <= 0 {
		return 0, fmt.Errorf("sysctl vm.loadavg: scale %d", scale)
	}
	return float64(binary.NativeEndian.Uint32(b)) / float64(scale), nil
}

// pagesAvailable is the memory available to a new job, in bytes, from the
// counts of free and inactive pages (FreeBSD's vm.stats.vm.v_free_count
// and v_inactive_count: inactive pages are reclaimed before a job waits
// for memory, as Linux's MemAvailable counts them).
func pagesAvailable(free, inactive, pageSize uint64) int64 {
	return int64((free + inactive) * pageSize)
}
