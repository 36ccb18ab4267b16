package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/futures-cli/futures/runner/internal/copybuf"
	"github.com/futures-cli/futures/runner/template"
)

// Block mode (--pipe): the input is not a list of items but a stream that
// is cut into blocks, each the standard input of one job. A block ends at
// a record end, so no record is ever split between two jobs.

// DefaultBlockSize is the size of a --pipe block when none is given, as in
// GNU parallel.
const DefaultBlockSize = 1 << 20

// PipeOptions configure PipeSource.
type PipeOptions struct {
	// BlockSize is the size a block aims at (--block). A block ends at
	// the last record end within its first BlockSize bytes, so it is at
	// most that long, unless a single record is longer: then the block is
	// that record. 0 is DefaultBlockSize, but for a regular file, whose
	// size is known: then it is the file's share of each of the Slots,
	// between DefaultBlockSize and MaxFileBlock (see PipeSource).
	BlockSize int64
	// RecEnd ends a record (--recend): "\n" for lines. "" means the input
	// has no records: blocks are cut at exactly BlockSize bytes.
	RecEnd string
	// Records, if positive, makes each block that many records (-N), the
	// last one maybe fewer, whatever their size; RecEnd must not be "".
	Records int
	// TempDir is where a block too big to hold in memory is spooled;
	// "" is os.TempDir().
	TempDir string
	// Slots is the number of jobs that run at once (-j; NoLimit: as many
	// as the CPUs). With BlockSize 0 and a regular file for input, it
	// chooses the block size: the file's share of each slot.
	Slots int
}

// numCPU is runtime.NumCPU, for the slots of -j 0.
var numCPU = runtime.NumCPU

// PipeSource cuts r into blocks as o says and makes a job of each: the
// template t with no input item ({} is empty, {#} is the block's number,
// and nothing is appended to a template without replacements), with the
// block as its standard input. A failed attempt that is retried reads the
// same block again.
//
// Memory: a block is held in memory, in a buffer that is reused once the
// job is over, up to twice BlockSize; a bigger one (a record longer than
// that, or Records records that add up to more) is spooled to an unlinked
// temporary file in TempDir. The runner keeps a block from when it is
// read until its job ends, so a run holds about (jobs in flight + 1) ×
// BlockSize; give Run a Window of about Workers+1 so that it is about
// Workers × BlockSize.
//
// The jobs must run on the thread executor: a worker process of the
// process executor is given no stdin.
//
// When r is a regular file (stdin redirected from a file, or a single -a
// FILE), as GNU parallel's --pipe-part does, the runner reads nothing but
// the few bytes around each cut (or, with Records, the bytes it counts
// records in, through one small buffer): a block is a region of the file,
// which the job's stdin pipe is filled from with splice(2) where it can
// be, so no block is held in memory or spooled, and memory does not grow
// with BlockSize. The blocks are the same as those of the same bytes
// through a pipe. Without a BlockSize, the file (from its offset to its
// end) is cut into one block per slot, as GNU parallel's --block -1: the
// k-th cut is at the last record end before k × (size / Slots), and a
// block is at least DefaultBlockSize and at most MaxFileBlock bytes
// (unless one record is longer).
func PipeSource(t *template.Template, r io.Reader, o PipeOptions) (Source, error) {
	auto := o.BlockSize <= 0
	if auto {
		o.BlockSize = DefaultBlockSize
	}
	if o.Records > 0 && o.RecEnd == "" {
		return nil, errors.New("--pipe: -N needs a record end (--recend)")
	}
	size := int(min(o.BlockSize, int64(maxBlock)))
	p := &pipeSource{
		tmpl:   t,
		r:      r,
		o:      o,
		recend: []byte(o.RecEnd),
		size:   size,
		limit:  2 * size,
		bufs:   &bufferPool{},
	}
	p.bufs.size = size
	if f, ok := r.(*os.File); ok {
		fi, err := f.Stat()
		switch {
		case err != nil:
		case fi.Mode().IsRegular():
			if pos, err := f.Seek(0, io.SeekCurrent); err == nil {
				p.file, p.pos = f, pos
				if auto && o.Records == 0 {
					p.size = fileBlock(fi.Size()-pos, o.Slots)
					p.aim, p.share = pos, int64(p.size)
				}
			}
		case fi.Mode()&os.ModeNamedPipe != 0:
			// Fewer, larger reads; and the writer blocks less often.
			growPipe(f, size)
		}
	}
	return p.next, nil
}

// maxBlock bounds BlockSize: a block is an in-memory buffer.
const maxBlock = 1 << 30

// MaxFileBlock bounds the block size PipeSource chooses for a regular
// file, so that a huge file is still cut into pieces a failed job can be
// retried on.
const MaxFileBlock = 1 << 30

// fileBlock is the default block of n bytes of a regular file over slots
// job slots (NoLimit: the CPUs): n / slots, rounded up, within
// [DefaultBlockSize, MaxFileBlock].
func fileBlock(n int64, slots int) int {
	if slots < 1 {
		slots = numCPU()
	}
	share := (n + int64(slots) - 1) / int64(slots)
	return int(min(max(share, DefaultBlockSize), MaxFileBlock))
}

// pipeSource is the state of one PipeSource; only the producer uses it.
type pipeSource struct {
	tmpl   *template.Template
	r      io.Reader
	o      PipeOptions
	recend []byte
	size   int // o.BlockSize
	limit  int // the most a block holds in memory
	bufs   *bufferPool
	seq    int
	err    error // sticky: io.EOF or a read error

	carry []byte // size mode: the start of the next block, already read
	eof   bool   // r is at its end

	rbuf   []byte // records mode: read buffer, rbuf[rs:re] not yet used
	rs, re int

	file    *os.File // region mode: r, a regular file
	pos     int64    // region mode: where the next block starts
	scratch []byte   // region mode: for finding record ends
	share   int64    // region mode without a BlockSize: size (each slot's share)
	aim     int64    // region mode without a BlockSize: where the last cut aimed
}

func (p *pipeSource) next() (*Job, error) {
	if p.err != nil {
		return nil, p.err
	}
	var b *block
	var err error
	switch {
	case p.file != nil && p.o.Records > 0:
		b, err = p.nextRegionRecords()
	case p.file != nil:
		b, err = p.nextRegion()
	case p.o.Records > 0:
		b, err = p.nextRecords()
	default:
		b, err = p.nextSized()
	}
	if err != nil {
		p.err = err
		return nil, err
	}
	p.seq++
	return &Job{Seq: p.seq, Args: []string{}, tmpl: p.tmpl, recs: [][]string{{}}, stdin: b}, nil
}

// read reads once into buf, noting the end of the input.
func (p *pipeSource) read(buf []byte) (int, error) {
	n, err := p.r.Read(buf)
	if err == io.EOF {
		p.eof = true
		err = nil
	}
	return n, err
}

func (p *pipeSource) getBuf() *[]byte { return p.bufs.get() }

// bufferPool is the free list of a PipeSource's block buffers. Unlike a
// sync.Pool it never drops a buffer, so the buffers ever made are as many
// as were in use at once, and no big block becomes garbage for the
// collector to let pile up.
type bufferPool struct {
	size int
	mu   sync.Mutex // guards free
	free []*[]byte
}

func (bp *bufferPool) get() *[]byte {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if n := len(bp.free); n > 0 {
		b := bp.free[n-1]
		bp.free = bp.free[:n-1]
		return b
	}
	b := make([]byte, 0, bp.size)
	return &b
}

// put gives b back.
func (bp *bufferPool) put(b *[]byte) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.free = append(bp.free, b)
}

// nextSized reads the next block of about p.size bytes into a pooled
// buffer, the bytes after its last record end kept for the next one.
func (p *pipeSource) nextSized() (*block, error) {
	bp := p.getBuf()
	data := append((*bp)[:0], p.carry...)
	p.carry = p.carry[:0]
	for len(data) < p.size && !p.eof {
		n, err := p.read(data[len(data):p.size])
		data = data[:len(data)+n]
		if err != nil {
			return nil, err
		}
	}
	if len(data) == 0 {
		p.bufs.put(bp)
		return nil, io.EOF
	}
	cut := len(data)
	if !p.eof || len(data) > p.size {
		switch i := bytes.LastIndex(data[:min(len(data), p.size)], p.recend); {
		case len(p.recend) == 0:
			cut = p.size
		case i >= 0:
			cut = i + len(p.recend)
		default:
			return p.longRecord(bp, data)
		}
	}
	p.carry = append(p.carry, data[cut:]...)
	*bp = data[:0]
	return &block{data: data[:cut], buf: bp, pool: p.bufs}, nil
}

// longRecord goes on reading a block whose first p.size bytes hold no
// record end, up to the first one: in memory up to p.limit bytes, then in
// a temporary file.
func (p *pipeSource) longRecord(bp *[]byte, data []byte) (*block, error) {
	from := max(0, len(data)-len(p.recend)+1)
	for !p.eof {
		if len(data)+p.size > p.limit {
			p.bufs.put(bp)
			return p.spill(data)
		}
		if cap(data)-len(data) < p.size {
			grown := make([]byte, len(data), max(2*cap(data), len(data)+p.size))
			copy(grown, data)
			data = grown
		}
		n, err := p.read(data[len(data) : len(data)+p.size])
		data = data[:len(data)+n]
		if err != nil {
			return nil, err
		}
		if i := bytes.Index(data[from:], p.recend); i >= 0 {
			cut := from + i + len(p.recend)
			p.carry = append(p.carry, data[cut:]...)
			return p.memBlock(bp, data[:cut]), nil
		}
		from = max(0, len(data)-len(p.recend)+1)
	}
	return p.memBlock(bp, data), nil
}

// memBlock makes a block of data, which is *bp's array or a larger one
// that replaced it (then *bp goes back to the pool now).
func (p *pipeSource) memBlock(bp *[]byte, data []byte) *block {
	if cap(data) != cap(*bp) {
		p.bufs.put(bp)
		return &block{data: data}
	}
	return &block{data: data, buf: bp, pool: p.bufs}
}

// spill writes data, the start of a block too big for memory, to a
// temporary file, and the rest of the block up to its first record end.
func (p *pipeSource) spill(data []byte) (*block, error) {
	f, err := blockFile(p.o.TempDir)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	fail := func(err error) (*block, error) {
		f.Close()
		return nil, fmt.Errorf("--pipe: spooling a block to a temporary file: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fail(err)
	}
	n := int64(len(data))
	keep := len(p.recend) - 1
	tail := append([]byte(nil), data[max(0, len(data)-keep):]...)
	buf := data[:0]
	if cap(buf) < keep+p.size {
		buf = make([]byte, 0, keep+p.size)
	}
	for !p.eof {
		buf = append(buf[:0], tail...)
		m, err := p.read(buf[len(buf) : len(buf)+p.size])
		buf = buf[:len(buf)+m]
		if err != nil {
			f.Close()
			return nil, err
		}
		if i := bytes.Index(buf, p.recend); i >= 0 {
			cut := i + len(p.recend)
			if _, err := w.Write(buf[len(tail):cut]); err != nil {
				return fail(err)
			}
			n += int64(cut - len(tail))
			p.carry = append(p.carry, buf[cut:]...)
			break
		}
		if _, err := w.Write(buf[len(tail):]); err != nil {
			return fail(err)
		}
		n += int64(len(buf) - len(tail))
		tail = append(tail[:0], buf[max(0, len(buf)-keep):]...)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	return &block{file: f, n: n, own: true}, nil
}

// nextRecords reads the next block of p.o.Records records.
func (p *pipeSource) nextRecords() (*block, error) {
	if p.rbuf == nil {
		p.rbuf = make([]byte, max(p.size, 2*len(p.recend)))
	}
	bb := blockBuilder{p: p}
	for count := 0; count < p.o.Records; {
		if p.re-p.rs < len(p.recend) && !p.eof {
			if err := p.refill(); err != nil {
				bb.discard()
				return nil, err
			}
			continue
		}
		seg := p.rbuf[p.rs:p.re]
		if len(seg) == 0 {
			break // eof
		}
		k := len(seg)
		if i := bytes.Index(seg, p.recend); i >= 0 {
			k = i + len(p.recend)
			count++
		} else if !p.eof {
			k -= len(p.recend) - 1 // a record end may start there
		}
		if err := bb.write(seg[:k]); err != nil {
			bb.discard()
			return nil, err
		}
		p.rs += k
	}
	return bb.block()
}

// refill moves what is left of rbuf to its front and reads more after it.
func (p *pipeSource) refill() error {
	n := copy(p.rbuf, p.rbuf[p.rs:p.re])
	p.rs, p.re = 0, n
	m, err := p.read(p.rbuf[n:])
	p.re += m
	return err
}

// blockBuilder collects a block written piecewise: in a pooled buffer up
// to the limit, then in a temporary file.
type blockBuilder struct {
	p    *pipeSource
	bp   *[]byte
	data []byte
	f    *os.File
	w    *bufio.Writer
	n    int64
}

func (b *blockBuilder) write(s []byte) error {
	p := b.p
	if b.f == nil && len(b.data)+len(s) <= p.limit {
		if b.bp == nil {
			b.bp = p.getBuf()
			b.data = (*b.bp)[:0]
		}
		b.data = append(b.data, s...)
		return nil
	}
	if b.f == nil {
		f, err := blockFile(p.o.TempDir)
		if err != nil {
			return err
		}
		b.f, b.w = f, bufio.NewWriterSize(f, 64<<10)
		if _, err := b.w.Write(b.data); err != nil {
			return fmt.Errorf("--pipe: spooling a block to a temporary file: %w", err)
		}
		b.n = int64(len(b.data))
		if b.bp != nil {
			p.bufs.put(b.bp)
		}
		b.bp, b.data = nil, nil
	}
	if _, err := b.w.Write(s); err != nil {
		return fmt.Errorf("--pipe: spooling a block to a temporary file: %w", err)
	}
	b.n += int64(len(s))
	return nil
}

func (b *blockBuilder) block() (*block, error) {
	switch {
	case b.f != nil:
		if err := b.w.Flush(); err != nil {
			b.discard()
			return nil, fmt.Errorf("--pipe: spooling a block to a temporary file: %w", err)
		}
		return &block{file: b.f, n: b.n, own: true}, nil
	case len(b.data) > 0:
		return b.p.memBlock(b.bp, b.data), nil
	}
	b.discard()
	return nil, io.EOF
}

func (b *blockBuilder) discard() {
	if b.f != nil {
		b.f.Close()
	}
	if b.bp != nil && cap(b.data) == cap(*b.bp) {
		b.p.bufs.put(b.bp)
	}
	b.f, b.bp, b.data = nil, nil, nil
}

// blockFile creates an unlinked temporary file for a block.
func blockFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "futures-block-*")
	if err != nil {
		return nil, fmt.Errorf("--pipe: cannot create a temporary file for a block: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("--pipe: cannot unlink the temporary file for a block: %w", err)
	}
	return f, nil
}

// nextRegion finds the next block of the regular file p.file: from p.pos
// to the last record end within p.size bytes.
func (p *pipeSource) nextRegion() (*block, error) {
	fi, err := p.file.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if p.pos >= size {
		// Leave the file's offset after what was used, as a reader would.
		_, _ = p.file.Seek(p.pos, io.SeekStart)
		return nil, io.EOF
	}
	end := p.pos + int64(p.size)
	if p.share > 0 {
		// Cuts aim at multiples of the share from the start, not at a
		// share from the last cut: that leaves no small block at the end.
		p.aim += p.share
		for p.aim <= p.pos {
			p.aim += p.share // a long record went past it
		}
		end = p.aim
	}
	cut := end
	switch {
	case end >= size:
		cut = size
	case len(p.recend) == 0:
	default:
		i, err := p.lastIndexAt(p.pos, end)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			if i, err = p.indexAt(max(p.pos, end-int64(len(p.recend))+1), size); err != nil {
				return nil, err
			}
		}
		cut = size
		if i >= 0 {
			cut = i + int64(len(p.recend))
		}
	}
	b := &block{file: p.file, off: p.pos, n: cut - p.pos}
	p.pos = cut
	return b, nil
}

// nextRegionRecords finds the next block of p.o.Records records of the
// regular file p.file: it counts record ends from p.pos, reading the file
// through p.scratch, a window at a time.
func (p *pipeSource) nextRegionRecords() (*block, error) {
	fi, err := p.file.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if p.pos >= size {
		_, _ = p.file.Seek(p.pos, io.SeekStart)
		return nil, io.EOF
	}
	keep := int64(len(p.recend) - 1)
	win := max(int64(64<<10), 2*int64(len(p.recend)))
	cut, from := size, p.pos
	for count := 0; from < size && count < p.o.Records; {
		end := min(size, from+win)
		buf, err := p.readAt(from, end)
		if err != nil {
			return nil, err
		}
		used := 0
		for count < p.o.Records {
			i := bytes.Index(buf[used:], p.recend)
			if i < 0 {
				break
			}
			used += i + len(p.recend)
			count++
		}
		if count == p.o.Records {
			cut = from + int64(used)
			break
		}
		if end == size {
			break
		}
		// A record end may start in the last keep bytes: read them again.
		from = max(from+int64(used), end-keep)
	}
	b := &block{file: p.file, off: p.pos, n: cut - p.pos}
	p.pos = cut
	return b, nil
}

// lastIndexAt returns the offset of the last record end that lies wholly
// in the file's [lo, hi), or -1. It reads backwards from hi, a few KiB
// first.
func (p *pipeSource) lastIndexAt(lo, hi int64) (int64, error) {
	keep := int64(len(p.recend) - 1)
	win := int64(4 << 10)
	for top := hi; top > lo; {
		start := max(lo, top-win)
		buf, err := p.readAt(start, min(top+keep, hi))
		if err != nil {
			return -1, err
		}
		if i := bytes.LastIndex(buf, p.recend); i >= 0 {
			return start + int64(i), nil
		}
		top = start
		win = 64 << 10
	}
	return -1, nil
}

// indexAt returns the offset of the first record end at or after from
// (and before size), or -1.
func (p *pipeSource) indexAt(from, size int64) (int64, error) {
	keep := int64(len(p.recend) - 1)
	for from < size {
		end := min(size, from+64<<10)
		buf, err := p.readAt(from, end)
		if err != nil {
			return -1, err
		}
		if i := bytes.Index(buf, p.recend); i >= 0 {
			return from + int64(i), nil
		}
		if end == size {
			break
		}
		from = end - keep
	}
	return -1, nil
}

// readAt reads the file's [lo, hi) into p.scratch; less at the end of
// the file.
func (p *pipeSource) readAt(lo, hi int64) ([]byte, error) {
	n := int(hi - lo)
	if cap(p.scratch) < n {
		p.scratch = make([]byte, n)
	}
	m, err := p.file.ReadAt(p.scratch[:n], lo)
	if err == io.EOF {
		err = nil
	}
	return p.scratch[:m], err
}

// block is the standard input of one --pipe job: bytes in memory (data,
// from a pooled buffer when pool is set), or a region of a file (the
// input itself, or a temporary file of its own when own is set).
type block struct {
	data []byte
	buf  *[]byte
	pool *bufferPool

	file   *os.File
	off, n int64
	own    bool
}

// reader returns a new reader of the whole block (one per attempt).
func (b *block) reader() io.Reader {
	if b.file != nil {
		return &regionReader{f: b.file, off: b.off, end: b.off + b.n}
	}
	return &memReader{b: b.data}
}

// release gives the block's memory or temporary file back, once its job is
// over. It may be called on a nil block.
func (b *block) release() {
	if b == nil {
		return
	}
	if b.pool != nil {
		b.pool.put(b.buf)
		b.pool, b.buf = nil, nil
	}
	if b.own && b.file != nil {
		b.file.Close()
	}
	b.data, b.file = nil, nil
}

// memReader reads a block held in memory. Its WriteTo (what io.Copy uses
// to fill the job's stdin pipe) first makes the pipe as big as the block
// allows, so the job's reads are fewer and larger.
type memReader struct{ b []byte }

func (r *memReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *memReader) WriteTo(w io.Writer) (int64, error) {
	if f, ok := w.(*os.File); ok {
		growPipe(f, len(r.b))
	}
	n, err := w.Write(r.b)
	r.b = r.b[n:]
	return int64(n), err
}

// regionReader reads the region [off, end) of a file.
type regionReader struct {
	f        *os.File
	off, end int64
}

func (r *regionReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	n, err := r.f.ReadAt(p[:min(int64(len(p)), r.end-r.off)], r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// WriteTo moves the region into w with splice(2) when w is a pipe: the
// page cache's pages go into the pipe without a copy. Elsewhere, or if the
// file system cannot splice, it copies.
func (r *regionReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if f, ok := w.(*os.File); ok {
		growPipe(f, int(min(r.end-r.off, 1<<30)))
		n, handled, err := spliceTo(f, r.f, r.off, r.end-r.off)
		total, r.off = n, r.off+n
		if handled || err != nil {
			return total, err
		}
	}
	bp := copybuf.Pool.Get().(*[]byte)
	defer copybuf.Pool.Put(bp)
	n, err := io.CopyBuffer(w, struct{ io.Reader }{r}, *bp)
	return total + n, err
}
