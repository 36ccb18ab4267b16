package input

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// fakeFiles is an Opener over texts by name ("-": stdin) that counts what
// is open.
type fakeFiles struct {
	texts map[string]string
	open  int
}

func (f *fakeFiles) opener(name string) (Input, func(), error) {
	text, ok := f.texts[name]
	if !ok {
		return Input{}, nil, fmt.Errorf("cannot read input: %s: %w", name, fs.ErrNotExist)
	}
	f.open++
	if name == "-" {
		name = "stdin"
	}
	return Input{Name: name, R: strings.NewReader(text)}, func() { f.open-- }, nil
}

// recordsOf is every record of each of recs, as "pos=v1|v2".
func recordsOf(t *testing.T, recs []Records) [][]string {
	t.Helper()
	var all [][]string
	for _, r := range recs {
		var got []string
		for {
			values, pos, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, pos.String()+"="+strings.Join(values, "|"))
		}
		all = append(all, got)
	}
	return all
}

func TestSourcesOpen(t *testing.T) {
	texts := map[string]string{"-": "s1\ns2\n", "a": "a1\na2\n", "b": "b1,x\n", "c.csv": "h1,h2\n\"1\n2\",3\n", "d": "d1,d2"}
	for _, tc := range []struct {
		name    string
		s       Sources
		want    [][]string
		columns []string
	}{
		{"with no source, stdin", Sources{Delim: '\n'},
			[][]string{{"stdin:1=s1", "stdin:2=s2"}}, nil},
		{"-a FILEs come first, then the groups in order", Sources{ArgFiles: []string{"b"}, Groups: []Group{{Args: []string{"x"}}, {Files: true, Args: []string{"a", "-"}}}, Delim: '\n'},
			[][]string{{"b:1=b1,x"}, {"::: item 1=x"}, {"a:1=a1", "a:2=a2"}, {"stdin:1=s1", "stdin:2=s2"}}, nil},
		{"several ::: groups are named by their number", Sources{Groups: []Group{{Args: []string{"x", "y"}}, {Args: []string{"z"}}}},
			[][]string{{"::: group 1, item 1=x", "::: group 1, item 2=y"}, {"::: group 2, item 1=z"}}, nil},
		{"FILEs are split at Delim, ::: items are not", Sources{ArgFiles: []string{"d"}, Groups: []Group{{Args: []string{"p,q"}}}, Delim: ','},
			[][]string{{"d:1=d1", "d:2=d2"}, {"::: item 1=p,q"}}, nil},
		{"Colsep splits items into fields", Sources{ArgFiles: []string{"b"}, Groups: []Group{{Args: []string{"p,q"}}}, Delim: '\n', Colsep: ","},
			[][]string{{"b:1=b1|x"}, {"::: item 1=p|q"}}, nil},
		{"CSV reads records, quoted newlines and all", Sources{ArgFiles: []string{"c.csv"}, CSV: true},
			[][]string{{"c.csv:1=h1|h2", "c.csv:2=1\n2|3"}}, nil},
		{"CSV with Colsep as the separator", Sources{Groups: []Group{{Args: []string{"a;b"}}}, CSV: true, Colsep: ";"},
			[][]string{{"::: item 1=a|b"}}, nil},
		{"Header lines name the columns of every source, and are not items", Sources{ArgFiles: []string{"c.csv"}, Groups: []Group{{Args: []string{"n", "1"}}}, CSV: true, Header: 1},
			[][]string{{"c.csv:2=1\n2|3"}, {"::: item 2=1"}}, []string{"h1", "h2", "n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := &fakeFiles{texts: texts}
			recs, columns, close, err := tc.s.Open(files.opener)
			if err != nil {
				t.Fatal(err)
			}
			if got := recordsOf(t, recs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("records %q, want %q", got, tc.want)
			}
			if !reflect.DeepEqual(columns, tc.columns) {
				t.Errorf("columns %q, want %q", columns, tc.columns)
			}
			close()
			if files.open != 0 {
				t.Errorf("%d inputs left open by close", files.open)
			}
		})
	}
}

func TestSourcesOpenErrors(t *testing.T) {
	texts := map[string]string{"-": "s\n", "a": "a\n", "bad.csv": "\"x\n"}
	for _, tc := range []struct {
		name string
		s    Sources
		want string
		is   error
	}{
		{"a :::: group without a FILE", Sources{ArgFiles: []string{"a"}, Groups: []Group{{Files: true}}}, ":::: needs one FILE or more", nil},
		{"stdin twice", Sources{ArgFiles: []string{"a", "-"}, Groups: []Group{{Files: true, Args: []string{"-"}}}}, "stdin (-) can be only one input source", nil},
		{"a FILE that cannot be opened, after others", Sources{ArgFiles: []string{"a", "-", "missing"}}, "cannot read input: missing: file does not exist", fs.ErrNotExist},
		{"a bad Colsep", Sources{ArgFiles: []string{"a"}, Colsep: "("}, "--colsep \"(\": error parsing regexp: missing closing ): `(`", nil},
		{"a Colsep that is not one character, with CSV", Sources{CSV: true, Colsep: ",,"}, `--colsep ",," with --csv: want one character (not a double quote, CR or LF)`, nil},
		{"a header that cannot be read", Sources{ArgFiles: []string{"a", "bad.csv"}, CSV: true, Header: 1}, `cannot read input: header: bad.csv:1: bad CSV: extraneous or missing " in quoted-field (column 4)`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := &fakeFiles{texts: texts}
			recs, _, close, err := tc.s.Open(files.opener)
			if err == nil || err.Error() != tc.want || recs != nil || close != nil {
				t.Errorf("records %v, close %v, error %v; want no records, no close, error %q", recs, close != nil, err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v is not %v", err, tc.is)
			}
			if files.open != 0 {
				t.Errorf("%d inputs left open after the error", files.open)
			}
		})
	}
}
