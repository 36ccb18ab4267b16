package template

import (
	"errors"
	"slices"
	"testing"

	"github.com/futures-cli/futures/runner/shell"
)

// rec is the Vars of a job with one record of these values.
func rec(values ...string) Vars { return Vars{Records: [][]string{values}, Seq: 1, Slot: 1} }

func mustExpandWith(t *testing.T, args []string, o Options, v Vars) shell.Command {
	t.Helper()
	tmpl, err := ParseWith(args, o)
	if err != nil {
		t.Fatalf("ParseWith(%q, %+v): %v", args, o, err)
	}
	c, err := tmpl.Expand(v)
	if err != nil {
		t.Fatalf("Expand(%q, %+v): %v", args, v, err)
	}
	return c
}

func TestOptions(t *testing.T) {
	fields := Options{Fields: true}
	cols := func(names ...string) Options { return Options{Fields: true, Columns: names} }
	tests := []struct {
		name string
		args []string
		o    Options
		vars Vars
		argv []string
	}{
		// -I STR
		{"-I % makes % the item", []string{"mv % %.bak"}, Options{Replace: "%"}, one("a b"), []string{"mv", "a b", "a b.bak"}},
		{"-I % leaves {} literal", []string{"echo {} %"}, Options{Replace: "%"}, one("x"), []string{"echo", "{}", "x"}},
		{"-I keeps the other replacement strings", []string{"echo {.} {#} %"}, Options{Replace: "%"}, one("a.c"), []string{"echo", "a", "1", "a.c"}},
		{"-I replaces inside words of an argv", []string{"echo", "pre-XX-post", "XX"}, Options{Replace: "XX"}, one("v"), []string{"echo", "pre-v-post", "v"}},
		{"-I replaces inside quotes", []string{`echo "<%>" '%'`}, Options{Replace: "%"}, one("a'b"), []string{"echo", "<a'b>", "a'b"}},
		{"-I {} is the default", []string{"echo {}"}, Options{Replace: "{}"}, one("v"), []string{"echo", "v"}},
		{"-I STR after a $ stays for the shell", []string{"sh", "-c", "echo $X", "_", "X"}, Options{Replace: "X"}, one("v"), []string{"sh", "-c", "echo $X", "_", "v"}},
		// Fields
		{"fields are {1} {2}", []string{"echo {2} {1}"}, fields, rec("a", "b"), []string{"echo", "b", "a"}},
		{"a line of one field is {1}", []string{"echo {1}"}, fields, rec("a"), []string{"echo", "a"}},
		{"{} is the fields as words", []string{"echo {}"}, fields, rec("a b", "c"), []string{"echo", "a b", "c"}},
		{"fields take the path forms", []string{"echo {1.} {2/}"}, fields, rec("d/a.c", "e/f"), []string{"echo", "d/a", "f"}},
		{"a chunk repeats the words with {N} per record", []string{"echo {1}={2} {#}"}, fields, Vars{Records: [][]string{{"a", "1"}, {"b", "2"}}, Seq: 4}, []string{"echo", "a=1", "b=2", "4"}},
		{"a chunk of one-field lines repeats {1}", []string{"echo {1}"}, fields, chunk("a", "b"), []string{"echo", "a", "b"}},
		{"without a replacement the fields are appended", []string{"echo"}, fields, rec("a", "b"), []string{"echo", "a", "b"}},
		// Columns
		{"{name} is the column's field", []string{"echo {size} {name}"}, cols("name", "size"), rec("f", "3"), []string{"echo", "3", "f"}},
		{"{name} takes the path forms", []string{"echo {p.} {p/} {p//} {p/.}"}, cols("p"), rec("d/a.tar"), []string{"echo", "d/a", "a.tar", "d", "a"}},
		{"a column called with a dot is itself first", []string{"echo {v.} {v}"}, cols("v.", "v"), rec("1", "x.c"), []string{"echo", "1", "x.c"}},
		{"{name} of an argv word", []string{"echo", "--{name}={name}"}, cols("name"), rec("v"), []string{"echo", "--v=v"}},
		{"a name with blanks", []string{"echo {first name}!"}, cols("first name"), rec("Ada"), []string{"echo", "Ada!"}},
		{"an unknown name stays literal", []string{"echo {other} {name}"}, cols("name"), rec("v"), []string{"echo", "{other}", "v"}},
		{"${name} stays for the shell", []string{"sh", "-c", "echo ${name}", "{name}"}, cols("name"), rec("v"), []string{"sh", "-c", "echo ${name}", "v"}},
		{"{N} comes before a column called N", []string{"echo {2}"}, cols("2", "x"), rec("a", "b"), []string{"echo", "b"}},
		{"the first of repeated names counts", []string{"echo {n}"}, cols("n", "n"), rec("a", "b"), []string{"echo", "a"}},
		{"a name with a quote is no column", []string{"echo", "{a'b}"}, cols("a'b"), rec("v"), []string{"echo", "{a'b}", "v"}},
		{"a value of a column is data", []string{"echo {name} | cat"}, cols("name"), rec("$(touch y)"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustExpandWith(t, tt.args, tt.o, tt.vars)
			if tt.argv == nil {
				if !c.Shell || c.Line != "echo '$(touch y)' | cat" {
					t.Fatalf("%q with %q = %+v", tt.args, tt.vars.Records, c)
				}
				return
			}
			if c.Shell || !slices.Equal(c.Argv, tt.argv) {
				t.Fatalf("%q with %q = %+v, want a direct exec of %q", tt.args, tt.vars.Records, c, tt.argv)
			}
		})
	}
}

func TestTemplateOptionErrors(t *testing.T) {
	for _, repl := range []string{"a b", "'", `"`, "$", "#", `\`, "`", "\n"} {
		t.Run("-I "+repl+" is refused", func(t *testing.T) {
			if _, err := ParseWith([]string{"echo"}, Options{Replace: repl}); !errors.Is(err, ErrTemplate) {
				t.Errorf("ParseWith(-I %q) = %v, want ErrTemplate", repl, err)
			}
		})
	}
	t.Run("a column in backquotes is refused", func(t *testing.T) {
		if _, err := ParseWith([]string{"echo `basename {f}`"}, Options{Columns: []string{"f"}}); !errors.Is(err, ErrTemplate) {
			t.Errorf("err = %v, want ErrTemplate", err)
		}
	})
	t.Run("-I in a here-document is refused", func(t *testing.T) {
		if _, err := ParseWith([]string{"cat <<EOF\n%\nEOF"}, Options{Replace: "%"}); !errors.Is(err, ErrTemplate) {
			t.Errorf("err = %v, want ErrTemplate", err)
		}
	})
	t.Run("a line with too few fields fails to expand", func(t *testing.T) {
		tmpl, err := ParseWith([]string{"echo {3}"}, Options{Fields: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmpl.Expand(rec("a", "b")); !errors.Is(err, ErrFields) {
			t.Errorf("Expand = %v, want ErrFields", err)
		}
		if _, err := tmpl.Expand(Vars{Records: [][]string{{"a", "b", "c"}, {"d"}}}); !errors.Is(err, ErrFields) {
			t.Errorf("Expand of a chunk = %v, want ErrFields", err)
		}
	})
}

func TestTemplatePerRecord(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		o       Options
		sources int
		want    bool
	}{
		{"no replacement appends every record", []string{"echo"}, Options{}, 1, true},
		{"{} is per record", []string{"echo x{}y"}, Options{}, 1, true},
		{"{/} is per record", []string{"echo", "{/}"}, Options{}, 1, true},
		{"{#} alone is not", []string{"echo {#}"}, Options{}, 1, false},
		{"{1} of one source is not", []string{"echo {1}"}, Options{}, 1, false},
		{"{1} of two sources is", []string{"echo {1}"}, Options{}, 2, true},
		{"{1} of fields is", []string{"echo {1}"}, Options{Fields: true}, 1, true},
		{"-I STR is", []string{"echo %"}, Options{Replace: "%"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseWith(tt.args, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.PerRecord(tt.sources); got != tt.want {
				t.Errorf("PerRecord(%d) = %v, want %v", tt.sources, got, tt.want)
			}
		})
	}
}
