package cmd

import (
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/futures-cli/futures/runner/input"
)

// inputStop makes the reads of a run's input interruptible, so that a
// signal or the overall deadline ends a run whose input never ends (stdin
// kept open by a producer that is still running, a terminal): stop makes a
// read that waits for more input return at once (os.ErrDeadlineExceeded).
//
// Files opened by name are pollable already. Stdin is a descriptor the
// process inherited, often blocking and shared with other processes, so
// it is not touched: when it is a pipe or a terminal, it is opened anew
// (/proc/self/fd/0: a description of our own, made non-blocking by os);
// when it is a socket, stop shuts down its reading side. A regular file
// never waits, and is read as it is.
type inputStop struct {
	// notice, if not nil, is told once that input is read from the
	// terminal (stderr), so that a run waiting for it does not wait
	// silently. Set before use.
	notice io.Writer

	mu      sync.Mutex  // guards the fields below
	files   []*os.File  // whose reads stop interrupts
	sock    bool        // stdin is a socket: stop shuts down its reading side
	opened  []*os.File  // files opened here, closed by close
	inputs  []inputFile // every regular file read, for checkOutputs (samefile.go)
	stopped bool
	told    bool // notice was told
}

// add registers f, an input file opened by name.
func (s *inputStop) add(f *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = append(s.files, f)
	if s.stopped {
		_ = f.SetReadDeadline(time.Now())
	}
}

// stdin returns the reader to use for r, the command's stdin: a reopened,
// interruptible one when r is the process's stdin and can be reopened.
func (s *inputStop) stdin(r io.Reader) io.Reader {
	if r != io.Reader(os.Stdin) {
		return r
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(0, &st); err != nil {
		return r
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFCHR:
		if st.Mode&syscall.S_IFMT == syscall.S_IFCHR {
			if !term.IsTerminal(0) {
				return r // /dev/null and the like: no wait
			}
			s.tell()
		}
		f, err := os.OpenFile("/proc/self/fd/0", os.O_RDONLY|syscall.O_NOCTTY, 0)
		if err != nil {
			return r
		}
		s.mu.Lock()
		s.opened = append(s.opened, f)
		s.mu.Unlock()
		s.add(f)
		return f
	case syscall.S_IFSOCK:
		s.mu.Lock()
		s.sock = true
		s.mu.Unlock()
	}
	return r
}

// tell says once, on notice, that input is read from the terminal (GNU
// parallel warns the same way): a run that seems to hang is waiting for
// the user.
func (s *inputStop) tell() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notice == nil || s.told {
		return
	}
	s.told = true
	_, _ = io.WriteString(s.notice, "futures: reading input from the terminal; end it with Ctrl-D\n")
}

// stop interrupts the reads of every input, now and from now on. It is
// the run's Options.StopInput.
func (s *inputStop) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for _, f := range s.files {
		_ = f.SetReadDeadline(time.Now())
	}
	if s.sock {
		_ = syscall.Shutdown(0, syscall.SHUT_RD)
	}
}

// close closes the files stdin opened.
func (s *inputStop) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.opened {
		_ = f.Close()
	}
	s.opened = nil
}

// openNamed opens the FILE arguments as openInputs does (all of them,
// before anything runs; none: stdin), each an input of its own, named for
// messages: the FILE as given, "stdin" for stdin and "-". close closes
// what it opened.
func openNamed(st *inputStop, stdin io.Reader, names []string) (ins []input.Input, close func(), err error) {
	var closers []func()
	close = func() {
		for _, c := range closers {
			c()
		}
	}
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		var only []string
		if name != "-" {
			only = []string{name}
		}
		r, c, err := openInputs(st, stdin, only)
		if err != nil {
			close()
			return nil, nil, err
		}
		closers = append(closers, c)
		if name == "-" {
			name = "stdin"
		}
		ins = append(ins, input.Input{Name: name, R: r})
	}
	return ins, close, nil
}
