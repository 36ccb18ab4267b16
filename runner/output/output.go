// Package output carries job output to the run's stdout and stderr: spools
// (memory, then a temporary file), and the group, line and ungroup writers.
package output

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/runner/internal/copybuf"
)

// spoolMemMax is the most a Spool keeps in memory before it moves to a
// temporary file.
const spoolMemMax = 64 << 10

// lineMemMax is the longest partial line a LineWriter keeps in memory; a
// longer one goes to a Spool until it ends.
const lineMemMax = 16 << 10

// Budget bounds the memory that all the spools of a run hold together: a
// spool keeps output in memory while the budget allows, then moves it to a
// temporary file. It is safe for concurrent use.
type Budget struct {
	left atomic.Int64 // bytes not yet taken
}

// NewBudget returns a budget of n bytes.
func NewBudget(n int64) *Budget {
	b := &Budget{}
	b.left.Store(n)
	return b
}

// take reserves n bytes, if that many are left.
func (b *Budget) take(n int64) bool {
	if b == nil {
		return false
	}
	for {
		left := b.left.Load()
		if left < n {
			return false
		}
		if b.left.CompareAndSwap(left, left-n) {
			return true
		}
	}
}

// give returns n bytes taken before.
func (b *Budget) give(n int64) {
	if b != nil && n > 0 {
		b.left.Add(n)
	}
}

// Spool holds one job's output stream until it can be written out. It keeps
// up to 64 KiB in memory, while its Budget allows, and moves everything to a
// temporary file past that. The file is unlinked as soon as it is created,
// so nothing is left behind even if the runner is killed. A Spool is safe
// for concurrent use.
type Spool struct {
	dir    string
	budget *Budget

	mu     sync.Mutex // guards the fields below
	mem    []byte     // the content, while file is nil; cap(mem) is taken from budget
	file   *os.File   // the content, once it outgrew mem
	size   int64
	err    error // the first failure to spool: every later Write returns it
	closed bool
}

// NewSpool returns an empty spool whose temporary file, if it needs one, is
// created in dir (os.TempDir() when ""). A nil budget allows no memory: the
// spool writes to its file from the first byte.
func NewSpool(dir string, b *Budget) *Spool {
	return &Spool{dir: dir, budget: b}
}

// Write appends p. A failure to create or write the temporary file is
// returned, naming the directory, and returned again by every later Write.
func (s *Spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, errors.New("spool: write after Close")
	}
	if s.file == nil {
		if s.fits(len(p)) {
			s.mem = append(s.mem, p...)
			s.size += int64(len(p))
			return len(p), nil
		}
		if err := s.moveToFile(); err != nil {
			s.err = err
			return 0, err
		}
	}
	n, err := s.file.Write(p)
	s.size += int64(n)
	if err != nil {
		s.err = fmt.Errorf("spooling job output to a temporary file in %s: %w", s.dirName(), err)
		return n, s.err
	}
	return n, nil
}

// fits makes room in mem for n more bytes, if the limit and the budget
// allow.
func (s *Spool) fits(n int) bool {
	need := len(s.mem) + n
	if need <= cap(s.mem) {
		return true
	}
	if need > spoolMemMax {
		return false
	}
	c := min(max(need, 2*cap(s.mem), 512), spoolMemMax)
	if !s.budget.take(int64(c - cap(s.mem))) {
		return false
	}
	mem := make([]byte, len(s.mem), c)
	copy(mem, s.mem)
	s.mem = mem
	return true
}

func (s *Spool) dirName() string {
	if s.dir == "" {
		return os.TempDir()
	}
	return s.dir
}

func (s *Spool) moveToFile() error {
	f, err := os.CreateTemp(s.dir, "futures-spool-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot create a temporary file for job output in %s: %w", s.dirName(), err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("cannot unlink the temporary file for job output %s: %w", f.Name(), err)
	}
	if _, err := f.Write(s.mem); err != nil {
		f.Close()
		return fmt.Errorf("spooling job output to a temporary file in %s: %w", s.dirName(), err)
	}
	s.budget.give(int64(cap(s.mem)))
	s.mem = nil
	s.file = f
	return nil
}

// Err returns the failure to spool that made the spool drop output, or
// nil.
func (s *Spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Len returns the number of bytes written so far.
func (s *Spool) Len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// WriteTo writes the whole content to w, in order, in chunks of at most
// 32 KiB (never the whole file in memory). It implements io.WriterTo; it
// may be called more than once.
func (s *Spool) WriteTo(w io.Writer) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errors.New("spool: WriteTo after Close")
	}
	if s.file == nil {
		n, err := w.Write(s.mem)
		if err == nil && n < len(s.mem) {
			err = io.ErrShortWrite
		}
		return int64(n), err
	}
	bp := copybuf.Pool.Get().(*[]byte)
	defer copybuf.Pool.Put(bp)
	buf := *bp
	var off int64
	for off < s.size {
		n, err := s.file.ReadAt(buf[:min(int64(len(buf)), s.size-off)], off)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			off += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return off, werr
			}
		}
		if err != nil && !(err == io.EOF && off == s.size) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return off, fmt.Errorf("reading spooled job output: %w", err)
		}
	}
	return off, nil
}

// String returns the whole content. It reads a spooled file back into
// memory, so it is for where the whole text is needed anyway (a JSON
// record); a read error truncates it (WriteTo reports such errors).
func (s *Spool) String() string {
	var b strings.Builder
	b.Grow(int(s.Len()))
	_, _ = s.WriteTo(&b)
	return b.String()
}

// Close releases the spool's memory to its budget and closes its file.
// Writing after Close fails.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.budget.give(int64(cap(s.mem)))
	s.mem = nil
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// Output is the single writer of the run's stdout (or stderr): every job's
// output reaches it through Write, WriteGroup or a LineWriter, one call at a
// time. It remembers the first error its writer returns (EPIPE once the
// reader of stdout is gone) and returns it from every later call without
// writing; callers stop when Err is set. It is safe for concurrent use.
type Output struct {
	mu  sync.Mutex // guards w and err, and serializes the writes to w
	w   io.Writer
	err error
}

// NewOutput returns an Output writing to w.
func NewOutput(w io.Writer) *Output {
	return &Output{w: w}
}

// Write writes p whole, under the lock.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	return o.write(p)
}

// write writes to w and remembers its first error; o.mu is held.
func (o *Output) write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// Err returns the first error the underlying writer returned, or nil.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// WriteGroup writes a job's whole output under one acquisition of the
// lock, so no other job's output comes in between (--output group). The
// content is copied through in chunks (a Spool's WriteTo), never held in
// memory whole. With a prefix (--tag), every line starts with it, and a
// last line without a newline gets one, so the next job's first line starts
// a line of its own; without one the output is written as it is. It
// returns the Output's error, or src's.
func (o *Output) WriteGroup(src io.WriterTo, prefix []byte) error {
	return o.Locked(prefix, func(w io.Writer) error {
		_, err := src.WriteTo(w)
		return err
	})
}

// outputWriter writes to an Output whose lock its user holds.
type outputWriter struct{ o *Output }

func (w outputWriter) Write(p []byte) (int, error) { return w.o.write(p) }

var prefixBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// Locked calls fn with a writer to o, holding o's lock throughout: with a
// prefix, each line fn writes is prefixed, and a last partial line ended.
func (o *Output) Locked(prefix []byte, fn func(io.Writer) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if prefix == nil {
		return fn(outputWriter{o})
	}
	bw := prefixBufs.Get().(*bufio.Writer)
	bw.Reset(outputWriter{o})
	defer func() {
		bw.Reset(nil)
		prefixBufs.Put(bw)
	}()
	pw := &prefixWriter{w: bw, prefix: prefix}
	err := fn(pw)
	if err == nil && pw.mid {
		err = bw.WriteByte('\n')
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err == nil {
		err = o.err
	}
	return err
}

// prefixWriter puts prefix at the start of every line written through it.
type prefixWriter struct {
	w      *bufio.Writer
	prefix []byte
	mid    bool // the last byte written was not a newline
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if !p.mid {
			if _, err := p.w.Write(p.prefix); err != nil {
				return n, err
			}
			p.mid = true
		}
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
			p.mid = false
		}
		m, err := p.w.Write(line)
		n += m
		if err != nil {
			return n, err
		}
		b = b[len(line):]
	}
	return n, nil
}

// LineWriter passes a job's output to an Output one whole line at a time
// (--output line): lines of different jobs never mix, and each line is
// written as soon as it is complete. With a non-nil prefix (--tag: the item
// and a TAB), every line starts with it.
//
// It holds the partial line in memory up to 16 KiB, and a longer one in a
// Spool (a temporary file in os.TempDir()) until its newline comes, so
// memory stays bounded whatever the job prints. Close writes a last line
// that lacks a newline, adding one, so the next line written starts a line
// of its own. A LineWriter is for one job stream: it is not safe for
// concurrent use (the Output it writes to is).
type LineWriter struct {
	out    *Output
	prefix []byte
	// Dir is where a long line is spooled; "": os.TempDir().
	Dir  string
	part []byte // the partial line, while long is nil
	long *Spool // the partial line, once longer than lineMemMax
	lost error  // the first failure to spool a long line: output dropped
}

// NewLineWriter returns a LineWriter writing to out.
func NewLineWriter(out *Output, prefix []byte) *LineWriter {
	return &LineWriter{out: out, prefix: prefix}
}

// Write writes the lines that p completes and keeps what follows the last
// newline. It returns the Output's error, or a failure to spool a long line.
func (l *LineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if err := l.hold(p); err != nil {
				return n - len(p), err
			}
			break
		}
		if l.pending() {
			line := p[:i+1]
			err := l.out.Locked(l.prefix, func(w io.Writer) error {
				if err := l.writePending(w); err != nil {
					return err
				}
				_, err := w.Write(line)
				return err
			})
			if rerr := l.reset(); err == nil {
				err = rerr
			}
			if err != nil {
				return n - len(p), err
			}
			p = p[i+1:]
			continue
		}
		j := bytes.LastIndexByte(p, '\n')
		lines := p[:j+1]
		if err := l.out.Locked(l.prefix, func(w io.Writer) error {
			_, err := w.Write(lines)
			return err
		}); err != nil {
			return n - len(p), err
		}
		p = p[j+1:]
	}
	return n, nil
}

// Close writes a last partial line, with a newline added, and releases the
// spool of a long line.
func (l *LineWriter) Close() error {
	if !l.pending() {
		return nil
	}
	err := l.out.Locked(l.prefix, func(w io.Writer) error {
		if err := l.writePending(w); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'})
		return err
	})
	if rerr := l.reset(); err == nil {
		err = rerr
	}
	return err
}

func (l *LineWriter) pending() bool { return len(l.part) > 0 || l.long != nil }

// Err returns the first failure to spool a long line (output was dropped),
// or nil; the Output's own errors (EPIPE) are not counted.
func (l *LineWriter) Err() error { return l.lost }

func (l *LineWriter) hold(p []byte) (err error) {
	defer func() {
		if err != nil && l.lost == nil {
			l.lost = err
		}
	}()
	if l.long == nil && len(l.part)+len(p) <= lineMemMax {
		l.part = append(l.part, p...)
		return nil
	}
	if l.long == nil {
		l.long = NewSpool(l.Dir, nil)
		if _, err := l.long.Write(l.part); err != nil {
			return err
		}
		l.part = l.part[:0]
	}
	_, err = l.long.Write(p)
	return err
}

func (l *LineWriter) writePending(w io.Writer) error {
	if l.long != nil {
		_, err := l.long.WriteTo(w)
		return err
	}
	_, err := w.Write(l.part)
	return err
}

func (l *LineWriter) reset() error {
	l.part = l.part[:0]
	if l.long == nil {
		return nil
	}
	err := l.long.Close()
	l.long = nil
	return err
}

// ReaderGone reports whether w is a pipe or socket whose reading end is
// closed: poll says POLLERR (a pipe) or POLLHUP (a socket) at once, and a
// write would fail with EPIPE.
func ReaderGone(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd)}}
		for {
			n, err := unix.Poll(fds, 0)
			if err == unix.EINTR {
				continue
			}
			gone = err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
			return
		}
	})
	return gone
}
