package input

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
)

// Files opens the inputs of a run (FILEs named on the command line, and
// stdin) and keeps what the run needs of them afterwards: their reads can
// be interrupted (Stop), and an output file that is also an input is
// refused (CheckOutputs). The zero value reads no stdin; set the fields
// before use, and Close when the run is over.
//
// Stop makes the reads of the inputs interruptible, so that a signal or
// the overall deadline ends a run whose input never ends (stdin kept open
// by a producer that is still running, a terminal): a read that waits for
// more input returns at once (os.ErrDeadlineExceeded). Files opened by
// name are pollable already. Stdin is a descriptor the process inherited,
// often blocking and shared with other processes, so it is not touched:
// when it is a pipe or a terminal, it is opened anew on Linux
// (/proc/self/fd/0: a description of our own, made non-blocking by os), and
// elsewhere read through select(2) with a pipe of its own that Stop closes
// (selectReader); when it is a socket, Stop shuts down its reading side. A regular file never waits, and is
// read as it is.
type Files struct {
	// Stdin is the run's standard input, read for "-" and when no FILE is
	// named; nil: none (an empty input).
	Stdin io.Reader
	// Notice, if not nil, is told once that input is read from the
	// terminal (stderr), so that a run waiting for it does not wait
	// silently.
	Notice io.Writer

	mu      sync.Mutex      // guards the fields below
	files   []*os.File      // whose reads Stop interrupts
	sock    bool            // stdin is a socket: Stop shuts down its reading side
	opened  []*os.File      // files opened for stdin, closed by Close
	selects []*selectReader // stdin read through select, stopped by Stop, closed by Close
	inputs  []inputFile     // every regular file read, for CheckOutputs
	stopped bool
	told    bool // Notice was told
}

// Open opens the FILEs names (all of them, before anything runs, so that
// an unreadable one is an error before any job) as one stream, or stdin
// when there are none; "-" is stdin. close closes what it opened. An
// error names the FILE: "cannot read input: NAME: is a directory".
func (f *Files) Open(names []string) (r io.Reader, close func(), err error) {
	if in, ok := f.Stdin.(*os.File); ok && (len(names) == 0 || slices.Contains(names, "-")) {
		f.noteInput("stdin", in)
	}
	if len(names) == 0 {
		return f.stdin(), func() {}, nil
	}
	var rs []io.Reader
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	for _, name := range names {
		if name == "-" {
			rs = append(rs, f.stdin())
			continue
		}
		file, err := os.Open(name)
		if err != nil {
			closeAll()
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("%s: %w", name, pe.Err)
			}
			return nil, nil, fmt.Errorf("cannot read input: %w", err)
		}
		files = append(files, file)
		if fi, err := file.Stat(); err == nil && fi.IsDir() {
			closeAll()
			return nil, nil, fmt.Errorf("cannot read input: %s: is a directory", name)
		}
		f.add(file)
		f.noteInput(name, file)
		rs = append(rs, file)
	}
	if len(rs) == 1 {
		return rs[0], closeAll, nil // as it is: --pipe cuts a regular file by offset
	}
	return io.MultiReader(rs...), closeAll, nil
}

// OpenNamed opens the FILE name ("-": stdin) as Open does, as an input of
// its own named for messages: the FILE as given, "stdin" for stdin. It is
// an Opener.
func (f *Files) OpenNamed(name string) (Input, func(), error) {
	var only []string
	if name != "-" {
		only = []string{name}
	}
	r, close, err := f.Open(only)
	if err != nil {
		return Input{}, nil, err
	}
	if name == "-" {
		name = "stdin"
	}
	return Input{Name: name, R: r}, close, nil
}

// OpenEach opens the FILEs names as OpenNamed does (all of them, before
// anything runs; none: stdin), each an input of its own. close closes
// what it opened.
func (f *Files) OpenEach(names []string) (ins []Input, close func(), err error) {
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
		in, c, err := f.OpenNamed(name)
		if err != nil {
			close()
			return nil, nil, err
		}
		closers = append(closers, c)
		ins = append(ins, in)
	}
	return ins, close, nil
}

// add registers file, an input file opened by name.
func (f *Files) add(file *os.File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = append(f.files, file)
	if f.stopped {
		_ = file.SetReadDeadline(time.Now())
	}
}

// stdin returns the reader to use for Stdin: a reopened, interruptible one
// when it is the process's stdin and can be reopened.
func (f *Files) stdin() io.Reader {
	r := f.Stdin
	if r == nil {
		return eof{}
	}
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
			f.tell()
		}
		file, err := reopenStdin()
		if err != nil {
			sr, err := newSelectReader(0)
			if err != nil {
				return r
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.selects = append(f.selects, sr)
			if f.stopped {
				sr.stop()
			}
			return sr
		}
		f.mu.Lock()
		f.opened = append(f.opened, file)
		f.mu.Unlock()
		f.add(file)
		return file
	case syscall.S_IFSOCK:
		f.mu.Lock()
		f.sock = true
		f.mu.Unlock()
	}
	return r
}

// eof is the stdin of a Files without one: an empty input.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// tell says once, on Notice, that input is read from the terminal (GNU
// parallel warns the same way): a run that seems to hang is waiting for
// the user.
func (f *Files) tell() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Notice == nil || f.told {
		return
	}
	f.told = true
	_, _ = io.WriteString(f.Notice, "futures: reading input from the terminal; end it with Ctrl-D\n")
}

// Stop interrupts the reads of every input, now and from now on: a read
// that waits returns os.ErrDeadlineExceeded. It is a run's
// Options.StopInput; it may be called at any time, from any goroutine.
func (f *Files) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	for _, file := range f.files {
		_ = file.SetReadDeadline(time.Now())
	}
	for _, sr := range f.selects {
		sr.stop()
	}
	if f.sock {
		_ = syscall.Shutdown(0, syscall.SHUT_RD)
	}
}

// Close closes the files opened anew for stdin. The FILEs opened by name
// are closed by the close func of the Open that opened them.
func (f *Files) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, file := range f.opened {
		_ = file.Close()
	}
	f.opened = nil
	for _, sr := range f.selects {
		sr.close()
	}
	f.selects = nil
}
