package shell

import (
	"fmt"
	"os"
	"strings"
)

// ArgLimits are how large a command may be for exec(2) to start it, as
// Linux counts: what -X fills a command line up to, what bounds a chunk
// of -n items, and what any command of map is held to before it starts.
type ArgLimits struct {
	// Total is the room for a command's arguments, each counted as its
	// length, its NUL and a pointer (8 bytes); the shell and -c count when
	// the command runs under one.
	Total int
	// Arg is the most one argument may take, its NUL included: a command
	// line that runs as sh -c LINE is one argument.
	Arg int
}

const (
	argMargin   = 4 << 10 // what SystemArgLimits leaves free
	pointerSize = 8
)

// SystemArgLimits returns the limits for the commands this process starts:
// the room the system gives arguments and environment together (on Linux,
// a quarter of the stack size limit, at least 128 KiB and at most 6 MiB, as
// Linux computes it; getconf ARG_MAX gives the same below a 24 MiB stack
// limit; on macOS and FreeBSD, kern.argmax), less the size of this
// process's environment, which every job inherits, and a margin of 4 KiB
// for the variables futures adds (FUTURES_SEQ…) and the program's path
// (xargs leaves 2 KiB). On Linux one argument may be 32 pages
// (MAX_ARG_STRLEN: 128 KiB); elsewhere the whole room.
//
// What an --initializer of the process executor adds to its worker's
// environment is not counted: a job whose command no longer fits fails
// with "argument list too long".
func SystemArgLimits() ArgLimits {
	room, arg := systemArgRoom()
	total := room - argMargin
	for _, kv := range os.Environ() {
		total -= len(kv) + 1 + pointerSize
	}
	return ArgLimits{Total: max(total, 0), Arg: arg}
}

// Measure returns the size of c, started under shell when it needs one,
// and the limit it is held to: for a command line that runs under a
// shell, the length of the line (one argument: its NUL included), held to
// l.Arg and to what the shell's own words leave of l.Total; else the total
// of its arguments, held to l.Total. err, when c is over a limit (an
// argument longer than l.Arg included), says which.
//
// err gives an argument's or a line's own length, without the NUL (what
// wc -c counts of it), and the most it may have, which is one less than
// the limit: "an argument of 200000 bytes, over the limit of 131071 for
// one". The size of a whole argv is given as the kernel counts it, each
// argument with its NUL and a pointer.
func (l ArgLimits) Measure(c Command, shell []string) (size, limit int, err error) {
	if c.Shell {
		limit = l.Total - pointerSize
		for _, a := range shell {
			limit -= len(a) + 1 + pointerSize
		}
		size = len(c.Line) + 1
		switch {
		case size > l.Arg:
			err = fmt.Errorf("argument list too long: a command line of %d bytes, over the limit of %d for one argument (it runs as %s LINE)", len(c.Line), l.Arg-1, strings.Join(shell, " "))
		case size > limit:
			err = fmt.Errorf("argument list too long: a command line of %d bytes, over the limit of %d", len(c.Line), limit-1)
		}
		return size, min(limit, l.Arg), err
	}
	longest := 0
	for _, a := range c.Argv {
		size += len(a) + 1 + pointerSize
		longest = max(longest, len(a))
	}
	switch {
	case longest+1 > l.Arg:
		err = fmt.Errorf("argument list too long: an argument of %d bytes, over the limit of %d for one", longest, l.Arg-1)
	case size > l.Total:
		err = fmt.Errorf("argument list too long: a command of %d bytes, over the limit of %d", size, l.Total)
	}
	return size, l.Total, err
}
