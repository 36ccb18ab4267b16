package proc

import "syscall"

// maxRSSKB is the rusage's maximum resident set size in KiB: macOS counts
// it in bytes.
func maxRSSKB(ru *syscall.Rusage) int64 { return ru.Maxrss >> 10 }
