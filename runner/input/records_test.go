package input

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// lines makes one input source of each text, one item per line.
func lines(texts ...string) []Records {
	var rs []Records
	for _, in := range texts {
		rs = append(rs, Items(NewReader(strings.NewReader(in), '\n'), nil))
	}
	return rs
}

// readRecords reads r to its end: the records, their lines, and the
// messages of the *RecordErrors met on the way.
func readRecords(t *testing.T, r Records) (recs [][]string, at []int, bad []string) {
	t.Helper()
	for range 10000 {
		values, pos, err := r.Next()
		var re *RecordError
		switch {
		case err == io.EOF:
			if _, _, err := r.Next(); err != io.EOF {
				t.Errorf("after the end: %v, want io.EOF", err)
			}
			return recs, at, bad
		case errors.As(err, &re):
			bad = append(bad, re.Error())
			continue
		case err != nil:
			t.Fatal(err)
		}
		recs = append(recs, values)
		at = append(at, pos.Line)
	}
	t.Fatal("no end")
	return
}

func TestZip(t *testing.T) {
	tests := []struct {
		name   string
		inputs []string
		want   [][]string
		lines  []int
	}{
		{"one source gives one-value records", []string{"a\n\nb\n"}, [][]string{{"a"}, {"b"}}, []int{1, 3}},
		{"sources are zipped in order", []string{"a\nb\n", "1\n2\n"}, [][]string{{"a", "1"}, {"b", "2"}}, []int{1, 2}},
		{"the shortest source stops the zip", []string{"a\nb\nc\n", "1\n", "x\ny\n"}, [][]string{{"a", "1", "x"}}, []int{1}},
		{"an empty source gives no record", []string{"a\n", ""}, nil, nil},
		{"no source gives no record", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at, _ := readRecords(t, Zip(lines(tt.inputs...)...))
			if !slices.EqualFunc(got, tt.want, slices.Equal) || !slices.Equal(at, tt.lines) {
				t.Errorf("records = %q at lines %v, want %q at %v", got, at, tt.want, tt.lines)
			}
		})
	}
	t.Run("a read error names its input source", func(t *testing.T) {
		boom := errors.New("boom")
		z := Zip(Items(NewReader(strings.NewReader("a\nb\n"), '\n'), nil), Items(NewReader(iotest.ErrReader(boom), '\n'), nil))
		_, _, err := z.Next()
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "input source 2") {
			t.Errorf("err = %v, want boom from input source 2", err)
		}
	})
	t.Run("the fields of each source follow one another", func(t *testing.T) {
		comma := SplitRegexp(mustColsep(t, ","))
		z := Zip(Items(NewReader(strings.NewReader("a,b\nc,d,e\n"), '\n'), comma), Items(NewReader(strings.NewReader("1\n2,3\n"), '\n'), comma))
		got, _, _ := readRecords(t, z)
		want := [][]string{{"a", "b", "1"}, {"c", "d", "e", "2", "3"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("records = %q, want %q", got, want)
		}
	})
	t.Run("a bad record drops its round and names its source", func(t *testing.T) {
		z := Zip(lines("a\nb\nc\n")[0], CSV(strings.NewReader("1\nx\"y\n3\n"), ','))
		got, _, bad := readRecords(t, z)
		want := [][]string{{"a", "1"}, {"c", "3"}}
		if !slices.EqualFunc(got, want, slices.Equal) || len(bad) != 1 || !strings.HasPrefix(bad[0], "input source 2, line 2: bad CSV") {
			t.Errorf("records = %q, bad %q; want %q and one bad record of source 2, line 2", got, bad, want)
		}
	})
}

func TestProduct(t *testing.T) {
	tests := []struct {
		name   string
		inputs []string
		want   [][]string
		lines  []int
	}{
		{"one source is itself", []string{"a\nb\n"}, [][]string{{"a"}, {"b"}}, []int{1, 2}},
		{"the last source varies fastest", []string{"a\nb\n", "1\n2\n3\n"},
			[][]string{{"a", "1"}, {"a", "2"}, {"a", "3"}, {"b", "1"}, {"b", "2"}, {"b", "3"}}, []int{1, 1, 1, 2, 2, 2}},
		{"three sources in GNU parallel's order", []string{"a\nb\n", "1\n2\n", "x\n"},
			[][]string{{"a", "1", "x"}, {"a", "2", "x"}, {"b", "1", "x"}, {"b", "2", "x"}}, []int{1, 1, 2, 2}},
		{"the lines are the first source's", []string{"\na\n\nb\n", "1\n"}, [][]string{{"a", "1"}, {"b", "1"}}, []int{2, 4}},
		{"an empty source makes the product empty", []string{"a\nb\n", ""}, nil, nil},
		{"an empty first source makes it empty", []string{"", "1\n"}, nil, nil},
		{"no source gives no record", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at, _ := readRecords(t, Product(lines(tt.inputs...)...))
			if !slices.EqualFunc(got, tt.want, slices.Equal) || !slices.Equal(at, tt.lines) {
				t.Errorf("records = %q at lines %v, want %q at %v", got, at, tt.want, tt.lines)
			}
		})
	}
	t.Run("the first source is streamed", func(t *testing.T) {
		// A first source that never ends still gives records.
		p := Product(Items(NewReader(endless{new(int)}, '\n'), nil), lines("1\n2\n")[0])
		for k, want := range []string{"y 1", "y 2", "y 1"} {
			values, _, err := p.Next()
			if err != nil || strings.Join(values, " ") != want {
				t.Fatalf("record %d = %q, %v; want %q", k, values, err, want)
			}
		}
	})
	t.Run("a bad record of another source fails once and is left out", func(t *testing.T) {
		p := Product(lines("a\nb\n")[0], CSV(strings.NewReader("1\n\"x\"y\n3\n"), ','))
		got, _, bad := readRecords(t, p)
		want := [][]string{{"a", "1"}, {"a", "3"}, {"b", "1"}, {"b", "3"}}
		if !slices.EqualFunc(got, want, slices.Equal) || len(bad) != 1 || !strings.HasPrefix(bad[0], "input source 2, line 2: bad CSV") {
			t.Errorf("records = %q, bad %q; want %q and one bad record", got, bad, want)
		}
	})
	t.Run("a bad record of the first source fails once", func(t *testing.T) {
		p := Product(CSV(strings.NewReader("a\n\"b\"x\nc\n"), ','), lines("1\n2\n")[0])
		got, _, bad := readRecords(t, p)
		want := [][]string{{"a", "1"}, {"a", "2"}, {"c", "1"}, {"c", "2"}}
		if !slices.EqualFunc(got, want, slices.Equal) || len(bad) != 1 || !strings.HasPrefix(bad[0], "input source 1, line 2: bad CSV") {
			t.Errorf("records = %q, bad %q; want %q and one bad record", got, bad, want)
		}
	})
	t.Run("a read error of another source ends it", func(t *testing.T) {
		boom := errors.New("boom")
		p := Product(lines("a\n")[0], Items(NewReader(iotest.ErrReader(boom), '\n'), nil))
		if _, _, err := p.Next(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "input source 2") {
			t.Errorf("err = %v, want boom from input source 2", err)
		}
		if _, _, err := p.Next(); err != io.EOF {
			t.Errorf("then %v, want io.EOF", err)
		}
	})
}

// endless reads "y\n" for ever.
type endless struct{ n *int }

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "y\n"[*e.n%2]
		*e.n++
	}
	return len(p), nil
}

func TestReadHeader(t *testing.T) {
	t.Run("the first line of each source names its columns", func(t *testing.T) {
		rs := lines("name\na\nb\n", "size\n1\n2\n")
		names, err := ReadHeader(rs, 1)
		if err != nil || !slices.Equal(names, []string{"name", "size"}) {
			t.Fatalf("ReadHeader = %q, %v", names, err)
		}
		got, at, _ := readRecords(t, Zip(rs...))
		if want := [][]string{{"a", "1"}, {"b", "2"}}; !slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(at, []int{2, 3}) {
			t.Errorf("then %q at %v, want %q at lines 2, 3", got, at, want)
		}
	})
	t.Run("with --colsep the header is split too", func(t *testing.T) {
		rs := []Records{Items(NewReader(strings.NewReader("a\tb\n1\t2\n"), '\n'), SplitRegexp(mustColsep(t, "\t")))}
		if names, err := ReadHeader(rs, 1); err != nil || !slices.Equal(names, []string{"a", "b"}) {
			t.Errorf("ReadHeader = %q, %v", names, err)
		}
	})
	t.Run("N lines are skipped, the first names", func(t *testing.T) {
		rs := lines("h\nskipped\nx\n")
		names, err := ReadHeader(rs, 2)
		got, _, _ := readRecords(t, rs[0])
		if err != nil || !slices.Equal(names, []string{"h"}) || !slices.EqualFunc(got, [][]string{{"x"}}, slices.Equal) {
			t.Errorf("ReadHeader = %q, %v, then %q", names, err, got)
		}
	})
	t.Run("a short source gives what it has", func(t *testing.T) {
		if names, err := ReadHeader(lines(""), 1); err != nil || len(names) != 0 {
			t.Errorf("ReadHeader = %q, %v", names, err)
		}
	})
	t.Run("a bad header is an error naming its line", func(t *testing.T) {
		_, err := ReadHeader([]Records{CSV(strings.NewReader("a\"b\n"), ',')}, 1)
		if err == nil || !strings.Contains(err.Error(), "header: input line 1: bad CSV") {
			t.Errorf("ReadHeader = %v", err)
		}
	})
}
