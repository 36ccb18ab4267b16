package shell

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-shellwords"
)

func FuzzSplitLine(f *testing.F) {
	for _, s := range []string{
		"echo a b", `echo 'a b' "c d" e\ f`, `a'b'"c"`, `printf %s '' ""`, `echo "a\b\$\"\\"`,
		"ls | wc", "echo $HOME", "cat <<EOF\nit's\nEOF", "echo 'abc", `echo abc\`, "echo \xff",
		"A=1 cmd", "cd /tmp", `echo $'a\'b'`, "echo `date", "# it's", "{ echo; }", "echo \x00",
		`echo "$(echo ")")"`, "x ${a:-'}'}", "\t\r\n", "echo ~ a~",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseLine(%q) = %v, not an ErrSyntax", line, err)
			}
			return
		}
		if c.Line != line {
			t.Fatalf("ParseLine(%q).Line = %q", line, c.Line)
		}
		if c.Shell {
			if c.Argv != nil {
				t.Fatalf("ParseLine(%q) = %+v: a shell line with an argv", line, c)
			}
			return
		}
		if len(c.Argv) == 0 {
			t.Fatalf("ParseLine(%q) = %+v: a direct exec without argv", line, c)
		}

		// Quoting the words back gives them back.
		quoted := make([]string, len(c.Argv))
		for i, a := range c.Argv {
			quoted[i] = Quote(a)
		}
		back, err := ParseLine("echo " + strings.Join(quoted, " "))
		if err != nil || back.Shell || !slices.Equal(back.Argv[1:], c.Argv) {
			t.Fatalf("ParseLine(%q) = %q; quoted back: %+v, %v", line, c.Argv, back, err)
		}

		// go-shellwords splits the same, where it is right: valid UTF-8
		// (it decodes runes), no backslash (it takes \t and \n for escapes,
		// and a backslash in double quotes for one), no CR or LF (it takes
		// them for blanks, sh does not).
		if utf8.ValidString(line) && !strings.ContainsAny(line, "\\\r\n") {
			words, err := shellwords.Parse(line)
			if err != nil || !slices.Equal(words, c.Argv) {
				t.Fatalf("line %q: ParseLine gives %q, shellwords %q, %v", line, c.Argv, words, err)
			}
		}
	})
}
