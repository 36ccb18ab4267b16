package shell

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseLineDirect(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	tests := []struct {
		name string
		line string
		argv []string
	}{
		{"a plain command is split on blanks", "echo a  b\tc", []string{"echo", "a", "b", "c"}},
		{"leading and trailing blanks are ignored", "  ls -l  ", []string{"ls", "-l"}},
		{"single quotes keep blanks and shell syntax", `echo 'a b; $x | * > y'`, []string{"echo", "a b; $x | * > y"}},
		{"double quotes keep blanks and syntax but $ and backquotes", `echo "a b; | * > y"`, []string{"echo", "a b; | * > y"}},
		{"a backslash in double quotes escapes only $ backquote quote and backslash", `echo "a\b \$ \` + "`" + ` \\ \""`, []string{"echo", `a\b $ ` + "`" + ` \ "`}},
		{"an unquoted backslash escapes the next byte", `echo a\ b \; \| \$x \\ \' \"`, []string{"echo", "a b", ";", "|", "$x", `\`, "'", `"`}},
		{"backslash t and n are not escapes outside quotes", `echo \t\n`, []string{"echo", "tn"}},
		{"a backslash inside single quotes is literal", `echo 'a\' 'b\\'`, []string{"echo", `a\`, `b\\`}},
		{"a pair of quotes is an empty word", `printf %s '' "" x''`, []string{"printf", "%s", "", "", "x"}},
		{"adjacent quoted parts join into one word", `echo a'b c'"d"\ e`, []string{"echo", "ab cd e"}},
		{"a quoted newline is data", "echo 'a\nb' \"c\nd\"", []string{"echo", "a\nb", "c\nd"}},
		{"invalid UTF-8 bytes pass through", "echo \xff\xfe 'a\x80' \"\xc3\"", []string{"echo", "\xff\xfe", "a\x80", "\xc3"}},
		{"a carriage return is part of a word", "echo hi\r", []string{"echo", "hi\r"}},
		{"# and ~ inside a word are literal", "echo a#b a~b", []string{"echo", "a#b", "a~b"}},
		{"a quoted or escaped # or ~ is literal", `echo '#' \~ "~x"`, []string{"echo", "#", "~", "~x"}},
		{"braces inside words are literal", `find . -name {} -exec rm {} \;`, []string{"find", ".", "-name", "{}", "-exec", "rm", "{}", ";"}},
		{"an assignment after the command is an argument", "make CC=gcc -j4", []string{"make", "CC=gcc", "-j4"}},
		{"a quoted assignment is a command name", `'A=1' x A'=1'`, []string{"A=1", "x", "A=1"}},
		{"keywords after the command are arguments", "echo if then cd", []string{"echo", "if", "then", "cd"}},
		{"an escaped glob is literal", `ls \* "?" '[a]'`, []string{"ls", "*", "?", "[a]"}},
		{"! inside a word is literal", "echo hi! !x", []string{"echo", "hi!", "!x"}},
		{"a 100 KB argument", "echo " + long + " '" + long + "'", []string{"echo", long, long}},
		{"many words", strings.Repeat("a ", 40), slices.Repeat([]string{"a"}, 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if c.Shell || !slices.Equal(c.Argv, tt.argv) || c.Line != tt.line {
				t.Fatalf("ParseLine(%q) = %+v, want a direct exec of %q", tt.line, c, tt.argv)
			}
			if len(tt.line) < 1000 {
				if got := shWords(t, tt.line); got != nil && !slices.Equal(got, tt.argv) {
					t.Errorf("sh splits %q as %q, ParseLine as %q", tt.line, got, tt.argv)
				}
			}
		})
	}
}

// shWords returns the words /bin/sh makes of a line with no shell syntax,
// or nil when there is no /bin/sh.
func shWords(t *testing.T, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil
	}
	out, err := exec.Command(sh, "-c", `printf '%s\0' `+line).Output()
	if err != nil {
		t.Fatalf("sh -c printf %q: %v", line, err)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1]
}

func TestParseLineShell(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{"a pipe needs a shell", "ls | wc -l"},
		{"&& needs a shell", "make && make install"},
		{"|| needs a shell", "test -f x || touch x"},
		{"; needs a shell", "cd /tmp; ls"},
		{"& needs a shell", "sleep 1 &"},
		{"an input redirection needs a shell", "sort < in"},
		{"an output redirection needs a shell", "echo hi > out"},
		{"a redirection of stderr needs a shell", "cmd 2>&1"},
		{"a subshell needs a shell", "(cd x && make)"},
		{"a group needs a shell", "{ echo a; echo b; }"},
		{"{ as a word needs a shell", "{ echo"},
		{"} as a word needs a shell", "echo }"},
		{"! as a word needs a shell", "! false"},
		{"a * glob needs a shell", "ls *.go"},
		{"a ? glob needs a shell", "ls ?"},
		{"a [ glob needs a shell", "ls [ab]"},
		{"a variable needs a shell", "echo $HOME"},
		{"a braced variable needs a shell", "echo ${HOME}"},
		{"a command substitution needs a shell", "echo $(date)"},
		{"backquotes need a shell", "echo `date`"},
		{"a variable in double quotes needs a shell", `echo "$HOME"`},
		{"backquotes in double quotes need a shell", "echo \"`date`\""},
		{"~ at the start of a word needs a shell", "ls ~"},
		{"~/path needs a shell", "ls ~/src"},
		{"a comment needs a shell", "# nothing"},
		{"a comment after a command needs a shell", "echo hi # it's a comment"},
		{"a newline needs a shell", "echo a\necho b"},
		{"a backslash-newline needs a shell", "echo a\\\nb"},
		{"a backslash-newline in double quotes needs a shell", "echo \"a\\\nb\""},
		{"a leading assignment needs a shell", "LC_ALL=C sort"},
		{"a leading assignment of a quoted value needs a shell", "A='x y' env"},
		{"cd needs a shell", "cd /tmp"},
		{"exit needs a shell", "exit 3"},
		{"export needs a shell", "export A=1"},
		{"a keyword needs a shell", "if true"},
		{"the . builtin needs a shell", ". ./env.sh"},
		{"a quote in a here-document is not an error", "cat <<EOF\nit's\nEOF"},
		{"$'…' quoting is followed", `echo $'it\'s'`},
		{"quotes inside $( ) are followed", `echo "$(echo ")")"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if !c.Shell || c.Argv != nil || c.Line != tt.line {
				t.Fatalf("ParseLine(%q) = %+v, want a shell line", tt.line, c)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // in the message
	}{
		{"an unterminated single quote is an error", "echo 'abc", "unterminated single quote at byte offset 5"},
		{"an unterminated double quote is an error", `echo a "abc`, "unterminated double quote at byte offset 7"},
		{"an escaped closing double quote does not close", `echo "a\"`, "unterminated double quote at byte offset 5"},
		{"a trailing backslash is an error", `echo abc\`, "trailing backslash at byte offset 8"},
		{"an unterminated quote in a shell line is an error", "ls | grep 'x", "unterminated single quote at byte offset 10"},
		{"an unterminated quote inside $( ) is an error", "echo $(echo 'y)", "unterminated single quote at byte offset 12"},
		{"an unterminated backquote is an error", "echo `date", "unterminated backquote at byte offset 5"},
		{"an unterminated $' quote is an error", `echo $'a\'b`, "unterminated $' quote at byte offset 5"},
		{"a trailing backslash in a shell line is an error", `ls | wc \`, "trailing backslash at byte offset 8"},
		{"a NUL byte is an error", "echo a\x00b", "NUL byte (a command line cannot hold one) at byte offset 6"},
		{"an empty line is an error", "", "empty command line"},
		{"an all-blank line is an error", " \t \r\n", "empty command line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseLine(tt.line)
			if err == nil {
				t.Fatalf("ParseLine(%q) = %+v, want an error", tt.line, c)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("ParseLine(%q) = %v, does not wrap ErrSyntax", tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseLine(%q) = %q, want it to say %q", tt.line, err, tt.want)
			}
		})
	}
}

// TestQuoteRoundTripsThroughParseLine holds shell.Quote (pool/shquote's
// quoting, whose own tests pin its output) to ParseLine: a quoted word
// comes back as that one word, with no shell needed.
func TestQuoteRoundTripsThroughParseLine(t *testing.T) {
	for _, s := range []string{
		"a-b_c.d/e:f,g@h%i+j=k", "--level=9", "", "a b", "it's", "'",
		"$(touch y); *", "~", "A=1", "a\nb", "\xff",
	} {
		c, err := ParseLine("echo " + Quote(s))
		if err != nil || c.Shell || !slices.Equal(c.Argv, []string{"echo", s}) {
			t.Errorf("ParseLine(echo %s) = %+v, %v; want argv [echo %q]", Quote(s), c, err, s)
		}
	}
}

func TestQuoteRoundTripsRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab '\"\\$`;|&<>(){}[]*?~#=!\n\t\r\x80\xff\xc3")
	var inputs []string
	for range 2000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(1 + r.IntN(255)) // any byte but NUL
			}
		}
		inputs = append(inputs, string(b))
	}
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(1 + r.IntN(255))
	}
	inputs = append(inputs, string(big))

	for _, s := range inputs {
		line := "echo " + Quote(s)
		c, err := ParseLine(line)
		if err != nil || c.Shell || len(c.Argv) != 2 || c.Argv[1] != s {
			t.Fatalf("ParseLine(%q) = %+v, %v; want argv [echo %q]", line, c, err, s)
		}
	}

	// The shell agrees, for a sample.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var script strings.Builder
	for _, s := range inputs[:300] {
		script.WriteString("printf '%s\\0' " + Quote(s) + "\n")
	}
	out, err := exec.Command(sh, "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(string(out), "\x00")
	for i, s := range inputs[:300] {
		if got[i] != s {
			t.Fatalf("sh printed %q for %q (quoted %q)", got[i], s, Quote(s))
		}
	}
}

func TestQuoteKeepsNUL(t *testing.T) {
	q := Quote("a\x00b")
	if q != "'a\x00b'" {
		t.Errorf("Quote(a NUL b) = %q", q)
	}
	if _, err := ParseLine("echo " + q); !errors.Is(err, ErrSyntax) {
		t.Errorf("ParseLine of a quoted NUL = %v, want ErrSyntax", err)
	}
}

func TestParseLineAgreesWithShOnRandomLines(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "b", " ", "  ", "\t", "'", `"`, `\`, "x'y z'", `"p q"`, `\ `, "''", `""`, "\xff", "=", "-", "{}", "\r"}
	var lines []string
	var want [][]string
	for len(lines) < 300 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		line := b.String()
		c, err := ParseLine("printf '%s\\0' " + line)
		if err != nil || c.Shell {
			continue
		}
		lines = append(lines, line)
		want = append(want, c.Argv[2:])
	}
	for i, line := range lines {
		out, err := exec.Command(sh, "-c", "printf '%s\\0' "+line).Output()
		if err != nil {
			t.Fatalf("sh -c %q: %v", line, err)
		}
		got := strings.Split(string(out), "\x00")
		got = got[:len(got)-1]
		if len(want[i]) == 0 {
			got = []string{} // printf with no argument prints its format once
			if !bytes.Equal(out, []byte{0}) {
				t.Fatalf("sh printed %q for %q", out, line)
			}
		}
		if !slices.Equal(got, want[i]) {
			t.Fatalf("line %q: sh gives %q, ParseLine %q", line, got, want[i])
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	for _, bm := range []struct{ name, line string }{
		{"plain", "gzip -9 -c /var/log/app/2024-05-01.log"},
		{"quoted", `convert 'photo 1.jpg' -resize 50% "out dir/photo 1.png"`},
		{"shell", `gzip -c 'a b.log' > 'a b.log.gz' && rm 'a b.log'`},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseLine(bm.line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
