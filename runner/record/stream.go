package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/futures-cli/futures/runner/output"
)

// Records with a job's output in them (--json, --results FILE.jsonl and
// FILE.csv) are streamed: the output is read from its spool in chunks and
// escaped into the JSON string or the CSV field as it goes, so a record is
// never whole in memory, however much the job printed. The bytes written
// are those encoding/json (with SetEscapeHTML(false)) and encoding/csv
// write for the same record.

// recordBufSize is the size of the buffer a record is written through.
const recordBufSize = 32 << 10

// stdoutStderr is where Result's two output fields sit in its JSON
// encoding when both are empty. Inside a JSON string every '"' is escaped,
// so these bytes can only be the fields themselves.
const stdoutStderr = `,"stdout":"","stderr":""`

// writeJSONRecord writes res as one JSON line to w, as a json.Encoder with
// SetEscapeHTML(false) would, with stdout and stderr (not res.Stdout and
// res.Stderr) as the contents of its "stdout" and "stderr" fields. A
// failure to read stdout or stderr does not stop the record: it is
// written whole, with the output read until then, and the failure is
// returned as lost. err is a failure to write to w.
func writeJSONRecord(w io.Writer, res *Result, stdout, stderr io.WriterTo) (lost, err error) {
	rec := *res
	rec.Stdout, rec.Stderr = "", ""
	if rec.Args == nil {
		rec.Args = []string{}
	}
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&rec); err != nil {
		return nil, err
	}
	b := head.Bytes()
	i := bytes.Index(b, []byte(stdoutStderr))
	if i < 0 {
		return nil, errors.New("JSON record: no stdout and stderr fields")
	}
	bw := bufio.NewWriterSize(w, recordBufSize)
	s := &jsonString{w: bw}
	_, _ = bw.Write(b[:i])
	_, _ = bw.WriteString(`,"stdout":"`)
	lost1 := s.copyFrom(stdout)
	_, _ = bw.WriteString(`","stderr":"`)
	lost2 := s.copyFrom(stderr)
	_ = bw.WriteByte('"')
	_, _ = bw.Write(b[i+len(stdoutStderr):])
	return errors.Join(lost1, lost2), bw.Flush()
}

// jsonString writes the bytes written to it to w as the contents of a
// JSON string (without its quotes), escaped as encoding/json escapes them
// without HTML escaping: '"', '\\' and control characters, U+2028 and
// U+2029 escaped, every byte that is not valid UTF-8 made \ufffd. A rune
// cut between two writes is held until the rest of it comes (or end
// says that nothing will).
type jsonString struct {
	w    *bufio.Writer
	part [2 * utf8.UTFMax]byte // the start of a rune cut by the last Write, then the bytes that may end it
	n    int                   // bytes of part held
}

// copyFrom writes the whole of src through s and ends it. It returns a
// failure to read src; a failure to write stays in s.w (bufio's errors
// stick) for its Flush to return.
func (s *jsonString) copyFrom(src io.WriterTo) error {
	_, err := src.WriteTo(s)
	s.end()
	if err != nil && s.w.Flush() == nil {
		return err
	}
	return nil
}

// Write escapes p. It fails only when writing to w does.
func (s *jsonString) Write(p []byte) (int, error) {
	n := len(p)
	if s.n > 0 {
		// Finish the cut rune with up to UTFMax-1 bytes of p: from four
		// bytes on, a rune is whole or invalid.
		k := copy(s.part[s.n:s.n+utf8.UTFMax-1], p)
		held := s.n
		m := s.escape(s.part[:held+k], false)
		if m < held {
			// Still not whole: p was that short, and all of it is held.
			s.n = copy(s.part[:], s.part[m:held+k])
			return n, s.err()
		}
		p = p[m-held:]
		s.n = 0
	}
	m := s.escape(p, false)
	s.n = copy(s.part[:], p[m:])
	return n, s.err()
}

// end escapes what is held: the bytes of a rune cut short, each \ufffd.
func (s *jsonString) end() {
	s.escape(s.part[:s.n], true)
	s.n = 0
}

// err returns the first failure to write to w (bufio.Writer keeps it).
func (s *jsonString) err() error {
	_, err := s.w.Write(nil)
	return err
}

const hexDigits = "0123456789abcdef"

// escape writes the escaped form of src to w and returns how many bytes
// of it it used: all of them, or, unless final, all but the start of a
// rune cut short at the end.
func (s *jsonString) escape(src []byte, final bool) int {
	w := s.w
	start := 0
	i := 0
	for i < len(src) {
		b := src[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			_, _ = w.Write(src[start:i])
			switch b {
			case '\\', '"':
				_, _ = w.Write([]byte{'\\', b})
			case '\b':
				_, _ = w.WriteString(`\b`)
			case '\f':
				_, _ = w.WriteString(`\f`)
			case '\n':
				_, _ = w.WriteString(`\n`)
			case '\r':
				_, _ = w.WriteString(`\r`)
			case '\t':
				_, _ = w.WriteString(`\t`)
			default:
				_, _ = w.Write([]byte{'\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF]})
			}
			i++
			start = i
			continue
		}
		if !final && !utf8.FullRune(src[i:]) {
			break
		}
		c, size := utf8.DecodeRune(src[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			_, _ = w.Write(src[start:i])
			_, _ = w.WriteString(`\ufffd`)
		case c == '\u2028' || c == '\u2029':
			_, _ = w.Write(src[start:i])
			_, _ = w.Write([]byte{'\\', 'u', '2', '0', '2', hexDigits[c&0xF]})
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	_, _ = w.Write(src[start:i])
	return i
}

// writeCSVRow writes one CSV row to w, as encoding/csv's Writer would,
// with stdout and stderr appended as its last two fields. They are read
// twice: once to learn whether the field needs quotes, once to write it.
// A failure to read them is returned as lost (the row is still written
// whole); err is a failure to write to w.
func writeCSVRow(w io.Writer, fields []string, stdout, stderr io.WriterTo) (lost, err error) {
	row := csvRow(fields)
	bw := bufio.NewWriterSize(w, recordBufSize)
	_, _ = bw.Write(row[:len(row)-1]) // without its '\n'
	var errs []error
	for _, src := range []io.WriterTo{stdout, stderr} {
		_ = bw.WriteByte(',')
		errs = append(errs, csvField(bw, src))
	}
	_ = bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return errors.Join(errs...), nil
}

// csvField writes src as a CSV field, quoted if encoding/csv would quote
// it. It returns a failure to read src.
func csvField(w *bufio.Writer, src io.WriterTo) error {
	var q csvQuoteScan
	if _, err := src.WriteTo(&q); err != nil {
		return err
	}
	if !q.needed() {
		_, err := src.WriteTo(w)
		if err != nil && w.Flush() != nil {
			return nil // a failure to write: Flush reports it
		}
		return err
	}
	_ = w.WriteByte('"')
	_, err := src.WriteTo(csvQuoted{w})
	_ = w.WriteByte('"')
	if err != nil && w.Flush() != nil {
		return nil
	}
	return err
}

// csvQuoteScan learns, from the bytes written to it, whether
// encoding/csv's Writer would quote them as a field (comma ','): when
// they hold '"', '\r', '\n' or ',', start with a space character, or are
// `\.`.
type csvQuoteScan struct {
	size    int64
	head    [utf8.UTFMax]byte // the first bytes
	special bool
}

func (q *csvQuoteScan) Write(p []byte) (int, error) {
	if q.size < int64(len(q.head)) {
		copy(q.head[q.size:], p)
	}
	q.size += int64(len(p))
	if !q.special && bytes.ContainsAny(p, "\"\r\n,") {
		q.special = true
	}
	return len(p), nil
}

func (q *csvQuoteScan) needed() bool {
	if q.size == 0 {
		return false
	}
	head := q.head[:min(q.size, int64(len(q.head)))]
	if q.special || string(head) == `\.` && q.size == 2 {
		return true
	}
	r, _ := utf8.DecodeRune(head)
	return unicode.IsSpace(r)
}

// csvQuoted writes the inside of a quoted CSV field: '"' doubled.
type csvQuoted struct{ w *bufio.Writer }

func (c csvQuoted) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '"')
		if i < 0 {
			if _, err := c.w.Write(p); err != nil {
				return n - len(p), err
			}
			break
		}
		if _, err := c.w.Write(p[:i+1]); err != nil {
			return n - len(p), err
		}
		if err := c.w.WriteByte('"'); err != nil {
			return n - len(p), err
		}
		p = p[i+1:]
	}
	return n, nil
}

// outputSource is a job's output for a record: its spool when it has one,
// else the text kept in the record (a message of its own).
func outputSource(s *output.Spool, text string) io.WriterTo {
	if s != nil {
		return s
	}
	return strings.NewReader(text)
}

// lostOutput says that a record lacks some of a job's output.
func lostOutput(seq int, err error) error {
	return fmt.Errorf("job %d: output lost: %w", seq, err)
}

// WriteJSON writes res as one JSON line to w (--json): its encoding/json
// encoding, byte for byte, with the job's output streamed from its spools
// into the "stdout" and "stderr" fields; a nil spool stands for the
// record's own Stdout or Stderr (a message of the runner's). A failure to
// read a spool does not stop the record: it is written whole, with the
// output read until then, and the failure is returned as lost ("job N:
// output lost: …"). err is a failure to write to w.
func WriteJSON(w io.Writer, res *Result, stdout, stderr *output.Spool) (lost, err error) {
	lost, err = writeJSONRecord(w, res, outputSource(stdout, res.Stdout), outputSource(stderr, res.Stderr))
	if lost != nil {
		lost = lostOutput(res.Seq, lost)
	}
	return lost, err
}
