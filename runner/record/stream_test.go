package record

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
)

// trickyOutputs are job outputs whose JSON and CSV encodings have traps:
// escapes, invalid UTF-8, runes cut anywhere, U+2028, HTML characters.
var trickyOutputs = []string{
	"",
	"plain\n",
	"quote \" backslash \\ slash /",
	"<html> & 'apostrophe'",
	"\x00\x01\x07\b\f\n\r\t\x0b\x1b\x1f\x7f",
	"line\u2028separator\u2029paragraph",
	"é日本語🎉",
	"\xff\xfe invalid \xc3 cut \xe2\x82 cut \xf0\x9f\x8e three of four",
	"\xed\xa0\x80 surrogate, \xc0\x80 overlong",
	"ends cut \xe2\x82",
	"\xf0",
	"a,b", "\"quoted\"", " leading space", "\tleading tab", "\u00a0nbsp first", `\.`, `\.x`, "cr\ronly",
}

// jsonOf is what encoding/json writes for s, as the runner's encoder is
// set up (no HTML escaping), without the quotes and the newline.
func jsonOf(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	return out[1 : len(out)-2]
}

// chunks writes its text in pieces of n bytes: a rune may be cut between
// two writes.
type chunks struct {
	text string
	n    int
}

func (c chunks) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for s := c.text; len(s) > 0; {
		k := min(c.n, len(s))
		m, err := w.Write([]byte(s[:k]))
		total += int64(m)
		if err != nil {
			return total, err
		}
		s = s[k:]
	}
	return total, nil
}

// streamJSON escapes text written in pieces of n bytes.
func streamJSON(text string, n int) string {
	var b bytes.Buffer
	bw := bufio.NewWriterSize(&b, 16)
	s := &jsonString{w: bw}
	_ = s.copyFrom(chunks{text, n})
	_ = bw.Flush()
	return b.String()
}

func TestJSONStringIsEncodingJSONs(t *testing.T) {
	for _, text := range trickyOutputs {
		want := jsonOf(t, text)
		for n := 1; n <= len(text)+1; n++ {
			if got := streamJSON(text, n); got != want {
				t.Fatalf("%q in pieces of %d: %s, want %s", text, n, got, want)
			}
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range trickyOutputs {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, text string, n int) {
		n = 1 + (n&0xffff)%(len(text)+1)
		if got, want := streamJSON(text, n), jsonOf(t, text); got != want {
			t.Fatalf("%q in pieces of %d: %s, want %s", text, n, got, want)
		}
		row, want := csvRecordOf(t, text)
		if got := streamCSV(row, text, n); got != want {
			t.Fatalf("CSV %q in pieces of %d: %q, want %q", text, n, got, want)
		}
	})
}

// csvRecordOf is a row and what encoding/csv writes for it with text as
// its stdout and stderr.
func csvRecordOf(t testing.TB, text string) ([]string, string) {
	row := []string{"1", "echo \"x\"", " a", ""}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(append(row, text, text)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return row, b.String()
}

func streamCSV(row []string, text string, n int) string {
	var b bytes.Buffer
	_, _ = writeCSVRow(&b, row, chunks{text, n}, chunks{text, n})
	return b.String()
}

func TestCSVRowIsEncodingCSVs(t *testing.T) {
	for _, text := range trickyOutputs {
		row, want := csvRecordOf(t, text)
		for n := 1; n <= len(text)+1; n++ {
			if got := streamCSV(row, text, n); got != want {
				t.Fatalf("%q in pieces of %d: %q, want %q", text, n, got, want)
			}
		}
	}
}

func TestJSONRecordIsEncodingJSONs(t *testing.T) {
	full := Result{
		Seq: 7, Command: "echo '<a>' & \u2028", Args: []string{"x\"y", "\xff"}, Worker: "worker_3", Retries: 2,
		Host: "h1", State: future.Finished, ExitCode: 3, Signal: "SIGTERM", Error: "terminated: \"x\"",
		Start: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), DurationMS: 12.5, MaxRSSKB: 2048,
		UserMS: 1.25, SysMS: 0.5, SentBytes: 10, ReceivedBytes: 20,
	}
	for _, tc := range []struct {
		name string
		res  Result
	}{
		{"every field set", full},
		{"the zero record, args null", Result{}},
		{"a cancelled job", Result{Seq: 2, Args: []string{"a"}, State: future.Cancelled, Error: "cancelled"}},
	} {
		for _, text := range trickyOutputs {
			t.Run(tc.name, func(t *testing.T) {
				want := tc.res
				if want.Args == nil {
					want.Args = []string{}
				}
				want.Stdout, want.Stderr = text, "err:"+text
				var wb bytes.Buffer
				enc := json.NewEncoder(&wb)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(&want); err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				res := tc.res
				res.Stdout, res.Stderr = "ignored", "ignored"
				lost, err := writeJSONRecord(&got, &res, chunks{text, 2}, strings.NewReader("err:"+text))
				if lost != nil || err != nil {
					t.Fatal(lost, err)
				}
				if got.String() != wb.String() {
					t.Fatalf("got  %s\nwant %s", got.String(), wb.String())
				}
			})
		}
	}
}

// generated is job output made as it is read, never held: n bytes of a
// pattern with escapes in it, in 32 KiB writes. Before each write it
// checks that the bytes already given have reached the destination,
// less at most slack: the encoder holds no more than that.
type generated struct {
	n     int64
	slack int64
	dst   *countingWriter
}

func (g generated) WriteTo(w io.Writer) (int64, error) {
	chunk := bytes.Repeat([]byte("ab\"\n\u2028\xff"), 32<<10/8)
	var given int64
	for given < g.n {
		if held := given - g.dst.n; held > g.slack {
			return given, fmt.Errorf("the encoder holds %d bytes of output", held)
		}
		p := chunk[:min(int64(len(chunk)), g.n-given)]
		m, err := w.Write(p)
		given += int64(m)
		if err != nil {
			return given, err
		}
	}
	return given, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func TestRecordsStreamOutputThroughABoundedBuffer(t *testing.T) {
	const size, slack = 8 << 20, 128 << 10
	t.Run("JSON", func(t *testing.T) {
		dst := &countingWriter{}
		src := generated{n: size, slack: slack, dst: dst}
		lost, err := writeJSONRecord(dst, &Result{Seq: 1}, src, strings.NewReader(""))
		if lost != nil || err != nil {
			t.Fatal(lost, err)
		}
		if dst.n < size {
			t.Fatalf("%d bytes written, want more than %d", dst.n, size)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		dst := &countingWriter{}
		// The field is read twice: the first pass writes nothing.
		first := true
		src := writerToFunc(func(w io.Writer) (int64, error) {
			if first {
				first = false
				return generated{n: size, slack: size, dst: dst}.WriteTo(w)
			}
			return generated{n: size, slack: slack, dst: dst}.WriteTo(w)
		})
		lost, err := writeCSVRow(dst, []string{"1"}, src, strings.NewReader(""))
		if lost != nil || err != nil {
			t.Fatal(lost, err)
		}
		if dst.n < size {
			t.Fatalf("%d bytes written, want more than %d", dst.n, size)
		}
	})
}

type writerToFunc func(io.Writer) (int64, error)

func (f writerToFunc) WriteTo(w io.Writer) (int64, error) { return f(w) }

func TestLostOutputStillEndsTheRecord(t *testing.T) {
	broken := writerToFunc(func(w io.Writer) (int64, error) {
		n, _ := w.Write([]byte("partial \xe2\x82"))
		return int64(n), errors.New("disk gone")
	})
	var b bytes.Buffer
	lost, err := writeJSONRecord(&b, &Result{Seq: 1}, broken, strings.NewReader("e"))
	if err != nil || lost == nil || !strings.Contains(lost.Error(), "disk gone") {
		t.Fatalf("lost %v, err %v", lost, err)
	}
	var r Result
	if err := json.Unmarshal(b.Bytes(), &r); err != nil || r.Stdout != "partial \ufffd\ufffd" || r.Stderr != "e" {
		t.Fatalf("record %q: %v", b.String(), err)
	}
}
