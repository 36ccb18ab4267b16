package template

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/futures-cli/futures/runner/internal/lex"
	"github.com/futures-cli/futures/runner/shell"
)

func FuzzTemplate(f *testing.F) {
	for _, s := range []struct{ tmpl, item string }{
		{"echo {}", "a b"},
		{"gzip -c {} > {}.gz", "$(touch y)"},
		{`echo "{}" '{}' $'{}'`, "'\"\\"},
		{"cp {} {//}/{/.}.bak", "a.b/c.tar.gz"},
		{"echo {1} {2} {#} {%}", "x"},
		{"awk '{print $1}' ${HOME} {foo}", "a\nb"},
		{"echo $(basename {}) `x` # {}", "-n"},
		{"cat <<EOF\n{}\nEOF", "EOF"},
		{"echo", "A=1"},
		{"{} x", "cd"},
		{"echo {", "\x00"},
		{"mv % %.bak; echo {name} {size/} {3}", "name,size,x"},
		{"echo {a b} '{a b}' \"{c.}\"", "a b,c"},
		{"cmd %", "a%b"},
	} {
		f.Add(s.tmpl, s.item)
	}
	f.Fuzz(func(t *testing.T, tmplText, item string) {
		vars := []Vars{one(item), chunk(item, "b", "c"), {Records: [][]string{{item, "x"}, {"y", item}}, Seq: 3, Slot: 2}}
		for _, args := range [][]string{{tmplText}, append([]string{"cmd"}, strings.Split(tmplText, " ")...)} {
			tmpl, err := Parse(args)
			if err != nil {
				if !errors.Is(err, ErrTemplate) {
					t.Fatalf("Parse(%q) = %v, not an ErrTemplate", args, err)
				}
				continue
			}
			for _, v := range vars {
				c, err := tmpl.Expand(v)
				if err != nil {
					if !errors.Is(err, ErrTemplate) && !errors.Is(err, shell.ErrSyntax) {
						t.Fatalf("Expand(%q, %q) = %v", args, v.Records, err)
					}
					continue
				}
				if len(args) > 1 {
					// The argv form: the line reads back as the argv.
					back, err := shell.ParseLine(c.Line)
					if c.Shell || err != nil || !slices.Equal(back.Argv, c.Argv) {
						t.Fatalf("%q with %q = %+v; its line reads %+v, %v", args, v.Records, c, back, err)
					}
				}
			}
			if len(args) == 1 && !strings.Contains(item, "\x00") {
				// An item never changes the structure of a command: where a
				// placeholder gives a direct exec, the item gives one of as
				// many words (or its first word is one only a shell runs).
				const placeholder = "PLACEHOLDER"
				p, perr := tmpl.Expand(one(placeholder))
				c, err := tmpl.Expand(one(item))
				if (perr == nil) != (err == nil) {
					t.Fatalf("%q: with a placeholder: %v; with %q: %v", tmplText, perr, item, err)
				}
				if err == nil && !p.Shell {
					if c.Shell && !lex.OnlyShellRuns(placeholderArg(c.Line)) {
						t.Fatalf("%q with %q needs a shell: %q (with a placeholder: %q)", tmplText, item, c.Line, p.Argv)
					}
					if !c.Shell && len(c.Argv) != len(p.Argv) {
						t.Fatalf("%q with %q = %q, with a placeholder %q", tmplText, item, c.Argv, p.Argv)
					}
				}
			}
		}

		// With -I %, --colsep fields and a header whose column names come
		// from the item (so from the input: data too), the same holds:
		// errors are ErrTemplate, or for one job ErrSyntax or ErrFields,
		// and a value never changes the structure of a command.
		opts := Options{Replace: "%", Fields: true, Columns: strings.Split(item, ",")}
		for _, args := range [][]string{{tmplText}, append([]string{"cmd"}, strings.Split(tmplText, " ")...)} {
			tmpl, err := ParseWith(args, opts)
			if err != nil {
				if !errors.Is(err, ErrTemplate) {
					t.Fatalf("ParseWith(%q, %+v) = %v, not an ErrTemplate", args, opts, err)
				}
				continue
			}
			for _, v := range []Vars{rec(item), rec(item, "b", "c"), {Records: [][]string{{item, "x"}, {"y"}}, Seq: 2, Slot: 3}} {
				c, err := tmpl.Expand(v)
				if err != nil {
					if !errors.Is(err, ErrTemplate) && !errors.Is(err, shell.ErrSyntax) && !errors.Is(err, ErrFields) {
						t.Fatalf("Expand(%q, %q) with %+v = %v", args, v.Records, opts, err)
					}
					continue
				}
				if len(args) > 1 {
					back, err := shell.ParseLine(c.Line)
					if c.Shell || err != nil || !slices.Equal(back.Argv, c.Argv) {
						t.Fatalf("%q with %q and %+v = %+v; its line reads %+v, %v", args, v.Records, opts, c, back, err)
					}
				}
			}
			if len(args) == 1 && !strings.Contains(item, "\x00") {
				const placeholder = "PLACEHOLDER"
				p, perr := tmpl.Expand(rec(placeholder, placeholder, placeholder, placeholder))
				c, err := tmpl.Expand(rec(item, item, item, item))
				if (perr == nil) != (err == nil) {
					t.Fatalf("%q with %+v: with a placeholder: %v; with %q: %v", tmplText, opts, perr, item, err)
				}
				if err == nil && !p.Shell {
					if c.Shell && !lex.OnlyShellRuns(placeholderArg(c.Line)) {
						t.Fatalf("%q with %q and %+v needs a shell: %q (with a placeholder: %q)", tmplText, item, opts, c.Line, p.Argv)
					}
					if !c.Shell && len(c.Argv) != len(p.Argv) {
						t.Fatalf("%q with %q and %+v = %q, with a placeholder %q", tmplText, item, opts, c.Argv, p.Argv)
					}
				}
			}
		}

		// echo {} gives the item back, whatever it holds.
		tmpl, err := Parse([]string{"echo {}"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := tmpl.Expand(one(item))
		if strings.Contains(item, "\x00") {
			if !errors.Is(err, shell.ErrSyntax) {
				t.Fatalf("echo {} with a NUL: %+v, %v", c, err)
			}
			return
		}
		if err != nil || c.Shell || !slices.Equal(c.Argv, []string{"echo", item}) {
			t.Fatalf("echo {} with %q = %+v, %v", item, c, err)
		}
	})
}

// placeholderArg is the first word of a line that needs a shell, as far as
// it can be told without one: the first blank-separated field, unquoted if
// it is quoted by Quote.
func placeholderArg(line string) string {
	w, _, _ := strings.Cut(strings.TrimLeft(line, " \t"), " ")
	if c, err := shell.ParseLine("x " + w); err == nil && !c.Shell && len(c.Argv) == 2 {
		return c.Argv[1]
	}
	return w
}
