package input

import (
	"encoding/csv"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func mustColsep(t testing.TB, s string) *regexp.Regexp {
	t.Helper()
	re, err := ParseColsep(s)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func TestColsep(t *testing.T) {
	tests := []struct {
		name   string
		colsep string
		item   string
		want   []string
	}{
		{"a comma splits", ",", "a,b,c", []string{"a", "b", "c"}},
		{"empty fields are kept", ",", "a,,b,", []string{"a", "", "b", ""}},
		{"a line without the separator is one field", ",", "a b", []string{"a b"}},
		{"a tab splits", `\t`, "a\tb c", []string{"a", "b c"}},
		{"a regular expression splits", " +", "a  b   c", []string{"a", "b", "c"}},
		{"a leading separator makes an empty field", " +", " a b", []string{"", "a", "b"}},
		{"a class of separators", "[,;]", "a;b,c", []string{"a", "b", "c"}},
		{"an escaped bar is a bar", `\|`, "a|b", []string{"a", "b"}},
		{"quotes are data", ",", `"a,b"`, []string{`"a`, `b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitRegexp(mustColsep(t, tt.colsep))(tt.item)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("split %q by %q = %q, %v; want %q", tt.item, tt.colsep, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"|", "a*", "(", ""} {
		t.Run("--colsep "+bad+" is refused", func(t *testing.T) {
			if _, err := ParseColsep(bad); err == nil {
				t.Errorf("ParseColsep(%q) accepted", bad)
			}
		})
	}
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		comma rune
		want  [][]string
		lines []int
		bad   []string
	}{
		{"plain fields", "a,b\nc,d\n", ',', [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}, nil},
		{"quoted fields hold separators and quotes", "\"a,b\",\"say \"\"hi\"\"\"\n", ',', [][]string{{"a,b", `say "hi"`}}, []int{1}, nil},
		{"a quoted field may span lines", "\"a\nb\",c\nd,e\n", ',', [][]string{{"a\nb", "c"}, {"d", "e"}}, []int{1, 3}, nil},
		{"records may differ in length", "a\nb,c,d\n", ',', [][]string{{"a"}, {"b", "c", "d"}}, []int{1, 2}, nil},
		{"blank lines are skipped", "a\n\n\nb\n", ',', [][]string{{"a"}, {"b"}}, []int{1, 4}, nil},
		{"CRLF ends a record", "a,b\r\nc\r\n", ',', [][]string{{"a", "b"}, {"c"}}, []int{1, 2}, nil},
		{"another separator", "a;b,c\n", ';', [][]string{{"a", "b,c"}}, []int{1}, nil},
		{"a bare quote fails its record only", "a\nb\"c\nd\n", ',', [][]string{{"a"}, {"d"}}, []int{1, 3},
			[]string{`input line 2: bad CSV: bare " in non-quoted-field (column 2)`}},
		{"text after a closing quote fails its record only", "\"a\"b,c\nd\n", ',', [][]string{{"d"}}, []int{2},
			[]string{`input line 1: bad CSV: extraneous or missing " in quoted-field (column 3)`}},
		{"an unterminated quote runs to the end", "a\n\"b\nc\n", ',', [][]string{{"a"}}, []int{1},
			[]string{`input line 2: bad CSV: extraneous or missing " in quoted-field (line 3, column 3)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at, bad := readRecords(t, CSV(strings.NewReader(tt.input), tt.comma))
			if !slices.EqualFunc(got, tt.want, slices.Equal) || !slices.Equal(at, tt.lines) || !slices.Equal(bad, tt.bad) {
				t.Errorf("CSV(%q) = %q at %v, bad %q; want %q at %v, bad %q", tt.input, got, at, bad, tt.want, tt.lines, tt.bad)
			}
		})
	}
}

func TestSplitCSV(t *testing.T) {
	split := SplitCSV(',')
	for _, tt := range []struct {
		item string
		want []string
		err  string
	}{
		{`a,"b,c"`, []string{"a", "b,c"}, ""},
		{"\"a\nb\",c", []string{"a\nb", "c"}, ""},
		{`a"b`, nil, "bare"},
		{"a\nb", nil, "more than one record"},
	} {
		got, err := split(tt.item)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitCSV(%q) = %q, %v; want an error with %q", tt.item, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitCSV(%q) = %q, %v; want %q", tt.item, got, err, tt.want)
		}
	}
}

func TestParseCSVComma(t *testing.T) {
	for _, tt := range []struct {
		colsep string
		want   rune
		ok     bool
	}{{"", ',', true}, {";", ';', true}, {"\t", '\t', true}, {"§", '§', true}, {",,", 0, false}, {`"`, 0, false}, {"\n", 0, false}} {
		got, err := ParseCSVComma(tt.colsep)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseCSVComma(%q) = %q, %v", tt.colsep, got, err)
		}
	}
}

// FuzzCSVFields checks that the CSV records of any input are what
// encoding/csv writes back and reads again: every record that is not a
// syntax error round-trips, a syntax error names a line of the input, and
// reading always ends.
func FuzzCSVFields(f *testing.F) {
	for _, s := range []string{
		"a,b\nc,d\n", "\"a,b\",c\n", "\"a\nb\",c\n", "a\"b\n", "\"a\"b\n", "\"abc", "\n\n,\n", "a,b\r\nc\r\n",
		"\"\"\"\"", "x,\"y\n\nz\",w\n\"bad", "\xff,\xfe\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		r := CSV(strings.NewReader(input), ',')
		nlines := strings.Count(input, "\n") + 1
		last := 0
		for n := 0; ; n++ {
			if n > len(input)+1 {
				t.Fatalf("%q: more records than bytes", input)
			}
			values, pos, err := r.Next()
			line := pos.Line
			if err != nil && err.Error() == "EOF" {
				break
			}
			var re *RecordError
			if errors.As(err, &re) {
				if re.Pos.Line < 1 || re.Pos.Line > nlines || re.Pos.Line < last {
					t.Fatalf("%q: a bad record at line %d of %d (after %d)", input, re.Pos.Line, nlines, last)
				}
				last = re.Pos.Line
				continue
			}
			if err != nil {
				t.Fatalf("%q: %v", input, err)
			}
			if line < 1 || line > nlines || line < last || len(values) == 0 {
				t.Fatalf("%q: record %q at line %d of %d (after %d)", input, values, line, nlines, last)
			}
			last = line
			// Written back as CSV, the record reads the same.
			var b strings.Builder
			w := csv.NewWriter(&b)
			if err := w.Write(values); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			back, err := SplitCSV(',')(strings.TrimSuffix(b.String(), "\n"))
			if len(values) == 1 && values[0] == "" {
				continue // an empty record is written as a blank line
			}
			if err != nil || !slices.Equal(back, values) {
				t.Fatalf("%q: record %q written as %q reads %q, %v", input, values, b.String(), back, err)
			}
		}
	})
}
