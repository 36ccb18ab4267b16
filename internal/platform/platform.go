// Package platform says which of futures' code paths run on this system:
// the Linux-only ones (Pdeathsig, pidfd, waitid, splice, /proc) or their
// portable fallbacks (POSIX process groups, a watchdog on the parent,
// wait4, a plain copy, sysctl). macOS and FreeBSD always take the portable
// paths; Linux takes them when FUTURES_FORCE_PORTABLE=1, so that the code
// those systems run is tested here too (make test-portable).
//
// The Linux-only code lives in files of its own (x_linux.go), the portable
// code in files that build everywhere, so that another system (Windows)
// can come later with files of its own.
package platform

import "os"

// ForceEnv is the environment variable that, set to 1, makes futures on
// Linux take the portable paths. It is read once, when the program starts.
const ForceEnv = "FUTURES_FORCE_PORTABLE"

// Portable is true when the portable fallbacks are used in place of the
// Linux-only paths: always on a system other than Linux, and on Linux when
// FUTURES_FORCE_PORTABLE=1 was set at start. A test may set it around a
// test that runs alone (not in parallel) to exercise a fallback.
var Portable = !isLinux || os.Getenv(ForceEnv) == "1"
