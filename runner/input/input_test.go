package input

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type numbered struct {
	item string
	line int
}

func readAll(t *testing.T, r *Reader) []numbered {
	t.Helper()
	var got []numbered
	for {
		item, line, err := r.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, numbered{item, line})
	}
}

func TestReader(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MB
	tests := []struct {
		name  string
		input string
		delim byte
		want  []numbered
	}{
		{"items are lines", "a\nb b\nc\n", '\n', []numbered{{"a", 1}, {"b b", 2}, {"c", 3}}},
		{"the last line needs no newline", "a\nb", '\n', []numbered{{"a", 1}, {"b", 2}}},
		{"empty lines are skipped but counted", "\na\n\n\nb\n\n", '\n', []numbered{{"a", 2}, {"b", 5}}},
		{"empty input has no item", "", '\n', nil},
		{"only delimiters make no item", "\n\n\n", '\n', nil},
		{"a carriage return before the newline is kept", "a\r\nb\r\n", '\n', []numbered{{"a\r", 1}, {"b\r", 2}}},
		{"NUL separates items that hold newlines", "a b\x00c\nd\x00\x00e", 0, []numbered{{"a b", 1}, {"c\nd", 2}, {"e", 4}}},
		{"another delimiter byte", "a,b\n,,c", ',', []numbered{{"a", 1}, {"b\n", 2}, {"c", 4}}},
		{"invalid UTF-8 passes through", "\xff\xfe\n\x80", '\n', []numbered{{"\xff\xfe", 1}, {"\x80", 2}}},
		{"a 1 MB item is one item", "a\n" + big + "\nb\n" + big, '\n', []numbered{{"a", 1}, {big, 2}, {"b", 3}, {big, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewReader(strings.NewReader(tt.input), tt.delim))
			if !slices.Equal(got, tt.want) {
				t.Errorf("items = %s, want %s", summary(got), summary(tt.want))
			}
			// The same, read a byte at a time.
			got = readAll(t, NewReader(iotest.OneByteReader(strings.NewReader(tt.input)), tt.delim))
			if !slices.Equal(got, tt.want) {
				t.Errorf("one byte at a time: items = %s, want %s", summary(got), summary(tt.want))
			}
		})
	}
}

// summary shows items, long ones cut short.
func summary(items []numbered) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%d:%.40q(%d bytes) ", it.line, it.item, len(it.item))
	}
	return b.String()
}

func TestReaderEndIsSticky(t *testing.T) {
	r := NewReader(strings.NewReader("a\n"), '\n')
	r.Next()
	for range 3 {
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end = %v, want io.EOF", err)
		}
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("a\nb\npart"), iotest.ErrReader(boom)), '\n')
	readItem := func() (string, int, error) { return r.Next() }
	for _, want := range []numbered{{"a", 1}, {"b", 2}} {
		if item, line, err := readItem(); err != nil || item != want.item || line != want.line {
			t.Fatalf("Next = %q, %d, %v; want %q, %d", item, line, err, want.item, want.line)
		}
	}
	for range 2 {
		if item, line, err := readItem(); !errors.Is(err, boom) || item != "" || line != 3 {
			t.Fatalf("Next = %q, %d, %v; want the error at line 3", item, line, err)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		sb.WriteString("/data/photos/2024/05/img_")
		sb.WriteString(strings.Repeat("x", i%16))
		sb.WriteString(".jpg\n")
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(strings.NewReader(input), '\n')
		for {
			if _, _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

func TestReaderOfSeveralInputsCountsLinesPerInputAndNamesThem(t *testing.T) {
	r := NewInputsReader([]Input{
		{Name: "a.txt", R: strings.NewReader("1\n\n3")}, // no final newline: 3 is an item of its own
		{Name: "empty", R: strings.NewReader("")},
		{Name: "stdin", R: strings.NewReader("x\ny\n")},
	}, '\n')
	type got struct {
		item, name string
		line       int
	}
	var all []got
	for {
		item, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got{item, r.Name(), line})
	}
	want := []got{{"1", "a.txt", 1}, {"3", "a.txt", 3}, {"x", "stdin", 1}, {"y", "stdin", 2}}
	if !slices.Equal(all, want) {
		t.Fatalf("items %v, want %v", all, want)
	}
	if p := (Pos{Name: "stdin", Line: 2}).String(); p != "stdin:2" {
		t.Errorf("Pos = %q", p)
	}
}
