package shell

import (
	"os"
	"syscall"
)

// Linux's constants (include/uapi/linux/limits.h, fs/exec.c).
const (
	legacyArgMax = 128 << 10 // ARG_MAX: the room whatever the stack limit
	stackLimit   = 8 << 20   // _STK_LIM: the room is at most ¾ of it
)

// systemArgRoom returns the room for arguments and environment, as Linux
// computes it from the stack size limit, and the most one argument may
// take (MAX_ARG_STRLEN).
func systemArgRoom() (room, arg int) {
	r := uint64(legacyArgMax)
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &rl); err == nil {
		r = max(r, min(rl.Cur/4, stackLimit/4*3))
	}
	return int(r), 32 * os.Getpagesize()
}
