//go:build !linux && !darwin

package proc

import "syscall"

// maxRSSKB is the rusage's maximum resident set size in KiB, which the
// BSDs count it in.
func maxRSSKB(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }
