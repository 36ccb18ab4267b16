package runner

import (
	"bufio"
	"io"
)

// Reader reads input items separated by a delimiter byte: '\n' by default,
// 0 for -0/--null, another byte for -d. It streams: it holds one item in
// memory (and a fixed-size buffer), whatever the input's size, and an item
// may be of any length (a 1 MB line is one item; there is no
// bufio.Scanner-style limit).
//
// The delimiter ends an item, so a trailing delimiter does not make an
// empty item, and input that does not end with one still ends its last
// item. Empty items are skipped (but counted by the line numbers). Items
// are bytes, returned unchanged: invalid UTF-8 passes through, and with
// '\n' a carriage return before it is kept (CRLF input gives items that
// end in '\r', as with xargs -d '\n'; strip it upstream, e.g. with tr -d
// '\r', if it is not wanted).
//
// A Reader is not safe for use by several goroutines at once.
type Reader struct {
	br    *bufio.Reader
	delim byte
	line  int    // items read so far, empty ones included
	long  []byte // an item longer than br's buffer, reused
	err   error  // sticky
}

// NewReader returns a Reader of the items of r separated by delim.
func NewReader(r io.Reader, delim byte) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), delim: delim}
}

// Next returns the next non-empty item and its line: the 1-based index of
// the item in the input, empty items included, for error messages. At the
// end of the input it returns io.EOF; on a read error, that error, with the
// line of the item being read (the part read of that item is dropped).
// Once it has returned an error, it returns it again.
func (r *Reader) Next() (item string, line int, err error) {
	for r.err == nil {
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
		case err != nil:
			r.err = err
			if err == io.EOF {
				return "", r.line, err
			}
			return "", r.line + 1, err
		default:
			b = b[:len(b)-1]
		}
		r.line++
		if len(b) > 0 {
			return string(b), r.line, nil
		}
	}
	if r.err == io.EOF {
		return "", r.line, r.err
	}
	return "", r.line + 1, r.err
}
