package input

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/futures-cli/futures/runner/shell"
	"github.com/futures-cli/futures/runner/template"
)

// jobs reads src to its end.
func jobs(t *testing.T, src Source) []*Job {
	t.Helper()
	var js []*Job
	for range 100000 {
		j, err := src()
		if err == io.EOF {
			return js
		}
		if err != nil {
			t.Fatal(err)
		}
		js = append(js, j)
	}
	t.Fatal("no end")
	return nil
}

// items makes n items of the given size: 000001xxx…
func manyItems(n, size int) string {
	var b strings.Builder
	for i := range n {
		s := fmt.Sprintf("%06d", i)
		b.WriteString(s + strings.Repeat("x", size-len(s)) + "\n")
	}
	return b.String()
}

// jobLines is each job's command line for slot 1, or "error: " and why
// it has none.
func jobLines(js []*Job) []string {
	var got []string
	for _, j := range js {
		c, err := j.Command(1)
		if err != nil {
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, c.Line)
	}
	return got
}

func mapJobs(t *testing.T, args []string, o template.Options, input string, mo MapOptions) []*Job {
	t.Helper()
	tmpl, err := template.ParseWith(args, o)
	if err != nil {
		t.Fatal(err)
	}
	var recs Records
	if o.Fields {
		recs = Items(NewReader(strings.NewReader(input), '\n'), SplitRegexp(mustColsep(t, ",")))
	} else {
		recs = Items(NewReader(strings.NewReader(input), '\n'), nil)
	}
	return jobs(t, MapSource(tmpl, recs, mo))
}

func TestMapSourceOneRecordPerJob(t *testing.T) {
	js := mapJobs(t, []string{"echo {}"}, template.Options{}, "a\n\nb\nc\n", MapOptions{})
	var got []string
	for _, j := range js {
		c, err := j.Command(1)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d@%d:%s", j.Seq, j.Line, c.Line))
	}
	if want := []string{"1@1:echo a", "2@3:echo b", "3@4:echo c"}; !slices.Equal(got, want) {
		t.Errorf("jobs = %q, want %q", got, want)
	}
}

func TestMapSourceChunks(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	small := shell.ArgLimits{Total: 200, Arg: 100}
	tests := []struct {
		name  string
		args  []string
		input string
		o     MapOptions
		want  []string // each job's command line
	}{
		{"-n 2 puts two records in a job", []string{"echo"}, "1\n2\n3\n4\n5\n", MapOptions{Chunksize: 2}, []string{"echo 1 2", "echo 3 4", "echo 5"}},
		// echo: 5 bytes and a pointer; an item of 60: 69 (200 ≥ 13+2×69).
		{"-n stops short of the limit", []string{"echo", "{}"}, manyItems(4, 60), MapOptions{Chunksize: 3, Limits: small},
			[]string{"echo 000000" + x(54) + " 000001" + x(54), "echo 000002" + x(54) + " 000003" + x(54)}},
		// An item of 30: 39 (200 ≥ 13+4×39).
		{"-X fills up to the limit", []string{"echo", "{}"}, manyItems(5, 30), MapOptions{Fill: true, Limits: small},
			[]string{"echo 000000" + x(24) + " 000001" + x(24) + " 000002" + x(24) + " 000003" + x(24), "echo 000004" + x(24)}},
		{"-X with -n takes at most n", []string{"echo"}, "1\n2\n3\n", MapOptions{Fill: true, Chunksize: 2, Limits: small}, []string{"echo 1 2", "echo 3"}},
		{"-X spreads the end of the input over the workers", []string{"echo"}, "1\n2\n3\n4\n5\n6\n7\n", MapOptions{Fill: true, Workers: 3, Limits: small},
			[]string{"echo 1 2 3", "echo 4 5 6", "echo 7"}},
		{"-X repeats the word with {}", []string{"cp -t dst {}"}, "a\nb\n", MapOptions{Fill: true}, []string{"cp -t dst a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, j := range mapJobs(t, tt.args, template.Options{}, tt.input, tt.o) {
				c, err := j.Command(1)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, c.Line)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("jobs:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestMapSourceFillsToTheLimit fills commands of many items with -X: every
// item comes exactly once, in input order; no command is over the limit,
// and none could have taken the next item.
func TestMapSourceFillsToTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		lim  shell.ArgLimits
	}{
		{"an argv", []string{"printf", "%s\n", "{}"}, shell.ArgLimits{Total: 64 << 10, Arg: 128 << 10}},
		{"a direct command line", []string{"printf '%s\n' x{}y"}, shell.ArgLimits{Total: 64 << 10, Arg: 128 << 10}},
		{"a shell line: one argument", []string{"printf '%s\n' {} | sort"}, shell.ArgLimits{Total: 1 << 20, Arg: 32 << 10}},
		{"appended items", []string{"echo"}, shell.ArgLimits{Total: 20000, Arg: 128 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 20000
			js := mapJobs(t, tc.args, template.Options{}, manyItems(n, 20), MapOptions{Fill: true, Limits: tc.lim, Workers: 2})
			if len(js) < 3 {
				t.Fatalf("%d jobs, want several", len(js))
			}
			next := 0
			for k, j := range js {
				c, err := j.Command(99)
				if err != nil {
					t.Fatal(err)
				}
				size, limit, err := tc.lim.Measure(c, shell.DefaultShell)
				if err != nil {
					t.Fatalf("job %d: %v", j.Seq, err)
				}
				for _, a := range j.Args {
					if a[:6] != fmt.Sprintf("%06d", next) {
						t.Fatalf("job %d has %q, want item %d", j.Seq, a, next)
					}
					next++
				}
				if k < len(js)-3 && size+30 < limit-30 {
					// (30: an item and its separator; the last jobs are spread.)
					t.Errorf("job %d: %d bytes of %d: the next item would have fit", j.Seq, size, limit)
				}
			}
			if next != n {
				t.Errorf("%d items, want %d", next, n)
			}
		})
	}
}

func TestMapSourceBadRecords(t *testing.T) {
	lim := shell.ArgLimits{Total: 300, Arg: 150}
	long := strings.Repeat("L", 400)
	tests := []struct {
		name  string
		args  []string
		o     template.Options
		input string
		mo    MapOptions
		want  []string // each job: its command line, or "error: …"
	}{
		{"an item too long alone fails alone", []string{"echo"}, template.Options{}, "a\nb\n" + long + "\nc\n", MapOptions{Fill: true, Limits: lim},
			[]string{"echo a b", "error: input line 3: argument list too long: an argument of 400 bytes, over the limit of 149 for one", "echo c"}},
		{"an item too long for a shell line fails alone", []string{"echo {} | cat"}, template.Options{}, "a\n" + long + "\n", MapOptions{Chunksize: 5, Limits: lim},
			[]string{"echo a | cat", "error: input line 2: argument list too long: a command line of 411 bytes, over the limit of 149 for one argument (it runs as /bin/sh -c LINE)"}},
		{"an item that makes too many bytes fails alone", []string{"echo {} {} {}"}, template.Options{}, "a\n" + strings.Repeat("M", 100) + "\n", MapOptions{Fill: true, Limits: lim},
			[]string{"echo a a a", "error: input line 2: argument list too long: a command of 340 bytes, over the limit of 300"}},
		{"one item per job: an item too long fails alone", []string{"echo"}, template.Options{}, "a\n" + long + "\nc\n", MapOptions{Limits: lim},
			[]string{"echo a", "error: input line 2: argument list too long: an argument of 400 bytes, over the limit of 149 for one", "echo c"}},
		{"-n 1: an item too long fails alone", []string{"echo", "{}"}, template.Options{}, "a\n" + long + "\nc\n", MapOptions{Chunksize: 1, Limits: lim},
			[]string{"echo a", "error: input line 2: argument list too long: an argument of 400 bytes, over the limit of 149 for one", "echo c"}},
		{"one item per job: the argument is what the word becomes", []string{"echo", "x{}y"}, template.Options{}, strings.Repeat("L", 147) + "\n" + strings.Repeat("L", 148) + "\n", MapOptions{Limits: lim},
			[]string{"echo x" + strings.Repeat("L", 147) + "y", "error: input line 2: argument list too long: an argument of 150 bytes, over the limit of 149 for one"}},
		{"one item per job: a shell line too long fails alone", []string{"echo {} | cat"}, template.Options{}, "a\n" + long + "\nc\n", MapOptions{Limits: lim},
			[]string{"echo a | cat", "error: input line 2: argument list too long: a command line of 411 bytes, over the limit of 149 for one argument (it runs as /bin/sh -c LINE)", "echo c | cat"}},
		{"one item per job: too many bytes in all fails alone", []string{"echo {} {} {}"}, template.Options{}, "a\n" + strings.Repeat("M", 100) + "\nc\n", MapOptions{Limits: lim},
			[]string{"echo a a a", "error: input line 2: argument list too long: a command of 340 bytes, over the limit of 300", "echo c c c"}},
		{"a line with too few fields fails alone", []string{"echo {2}"}, template.Options{Fields: true}, "a,1\nb\nc,3\n", MapOptions{},
			[]string{"echo 1", "error: input line 2: too few fields: the template needs 2, the line has 1", "echo 3"}},
		{"a line with too few fields leaves its chunk", []string{"echo {2}"}, template.Options{Fields: true}, "a,1\nb\nc,3\nd,4\n", MapOptions{Chunksize: 2},
			[]string{"echo 1", "error: input line 2: too few fields: the template needs 2, the line has 1", "echo 3 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jobLines(mapJobs(t, tt.args, tt.o, tt.input, tt.mo))
			if !slices.Equal(got, tt.want) {
				t.Errorf("jobs:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	t.Run("a bad CSV record fails alone", func(t *testing.T) {
		tmpl, _ := template.ParseWith([]string{"echo {1}"}, template.Options{Fields: true})
		js := jobs(t, MapSource(tmpl, CSV(strings.NewReader("a\nb\"\nc\n"), ','), MapOptions{Chunksize: 3}))
		var got []string
		for _, j := range js {
			c, err := j.Command(1)
			if err != nil {
				got = append(got, fmt.Sprintf("%d: %v", j.Line, err))
				continue
			}
			got = append(got, c.Line)
		}
		want := []string{"echo a", `2: input line 2: bad CSV: bare " in non-quoted-field (column 2)`, "echo c"}
		if !slices.Equal(got, want) {
			t.Errorf("jobs %q, want %q", got, want)
		}
	})
	t.Run("a read error ends the source", func(t *testing.T) {
		boom := errors.New("boom")
		tmpl, _ := template.Parse([]string{"echo"})
		src := MapSource(tmpl, Items(NewReader(iotest.ErrReader(boom), '\n'), nil), MapOptions{Fill: true})
		if _, err := src(); !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
	})
}
