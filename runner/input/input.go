package input

import (
	"bufio"
	"io"
)

// Input is one named input stream: a FILE, stdin, the items of a ::: group.
type Input struct {
	// Name says where an item came from in messages: "FILE:LINE",
	// "stdin:LINE", "::: item N" (see Pos); "" for an unnamed input
	// ("input line N").
	Name string
	R    io.Reader
}

// Reader reads input items separated by a delimiter byte: '\n' by default,
// 0 for -0/--null, another byte for -d. It streams: it holds one item in
// memory (and a fixed-size buffer), whatever the input's size, and an item
// may be of any length (a 1 MB line is one item; there is no
// bufio.Scanner-style limit).
//
// The delimiter ends an item, so a trailing delimiter does not make an
// empty item, and input that does not end with one still ends its last
// item. Empty items are skipped (but counted by the line numbers), and so
// are lines of only blanks (spaces, tabs, CRs) when the delimiter is '\n':
// DESIGN.md's "empty and whitespace-only lines are skipped"; with -0 or -d
// an item is taken as it is, so a file named " " survives -print0. Items
// are bytes, returned unchanged: invalid UTF-8 passes through, and with
// '\n' a carriage return before it is kept (CRLF input gives items that
// end in '\r', as with xargs -d '\n'; strip it upstream, e.g. with tr -d
// '\r', if it is not wanted).
//
// A Reader of several inputs (NewInputsReader) reads them one after the
// other: the end of one ends its last item, and lines are counted per
// input, for messages that name the input (Name).
//
// A Reader is not safe for use by several goroutines at once.
type Reader struct {
	br    *bufio.Reader
	delim byte
	name  string  // of the input being read
	next  []Input // the inputs after it
	line  int     // items read so far from this input, empty ones included
	long  []byte  // an item longer than br's buffer, reused
	err   error   // sticky, but io.EOF moves on to the next input
}

// NewReader returns a Reader of the items of r separated by delim. The
// input has no name (messages say "input line N").
func NewReader(r io.Reader, delim byte) *Reader {
	return NewInputsReader([]Input{{R: r}}, delim)
}

// NewInputsReader returns a Reader of the items of each of ins in turn,
// separated by delim; with none, a Reader at its end.
func NewInputsReader(ins []Input, delim byte) *Reader {
	if len(ins) == 0 {
		return &Reader{err: io.EOF, delim: delim}
	}
	return &Reader{br: bufio.NewReaderSize(ins[0].R, 64<<10), delim: delim, name: ins[0].Name, next: ins[1:]}
}

// Name returns the name of the input that the item (or error) that Next
// returned last came from.
func (r *Reader) Name() string { return r.name }

// Next returns the next non-empty item and its line: the 1-based index of
// the item in its input, empty items included, for error messages (Name
// says which input). At the end of the inputs it returns io.EOF; on a read
// error, that error, with the line of the item being read (the part read
// of that item is dropped). Once it has returned an error, it returns it
// again.
func (r *Reader) Next() (item string, line int, err error) {
	for {
		if r.err == io.EOF && len(r.next) > 0 {
			r.br.Reset(r.next[0].R)
			r.name, r.next = r.next[0].Name, r.next[1:]
			r.line, r.err = 0, nil
		}
		if r.err != nil {
			break
		}
		b, err := r.br.ReadSlice(r.delim)
		if err == bufio.ErrBufferFull {
			r.long = append(r.long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = r.br.ReadSlice(r.delim)
				r.long = append(r.long, b...)
			}
			b = r.long
		}
		switch {
		case err == io.EOF && len(b) > 0: // the last item, with no delimiter
			r.err = err
		case err == io.EOF:
			r.err = err
			continue
		case err != nil:
			r.err = err
			return "", r.line + 1, err
		default:
			b = b[:len(b)-1]
		}
		r.line++
		if len(b) > 0 && !(r.delim == '\n' && blank(b)) {
			return string(b), r.line, nil
		}
	}
	if r.err == io.EOF {
		return "", r.line, r.err
	}
	return "", r.line + 1, r.err
}

// blank reports whether b holds only spaces, tabs and carriage returns.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
