package template

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/shell"
)

// one is the Vars of a job with a single item.
func one(item string) Vars { return Vars{Records: [][]string{{item}}, Seq: 1, Slot: 1} }

// chunk is the Vars of a job with one record per item, one source.
func chunk(items ...string) Vars {
	v := Vars{Seq: 1, Slot: 1}
	for _, it := range items {
		v.Records = append(v.Records, []string{it})
	}
	return v
}

func mustExpand(t *testing.T, args []string, v Vars) shell.Command {
	t.Helper()
	tmpl, err := Parse(args)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	c, err := tmpl.Expand(v)
	if err != nil {
		t.Fatalf("Expand(%q, %+v): %v", args, v, err)
	}
	return c
}

func TestTemplateReplacements(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		vars Vars
		argv []string
	}{
		{"{} is the item", "echo {}", one("a b"), []string{"echo", "a b"}},
		{"{} may be part of a word", "cp {} {}.bak", one("f"), []string{"cp", "f", "f.bak"}},
		{"{.} removes the last extension", "echo {.}", one("a.b/c.tar.gz"), []string{"echo", "a.b/c.tar"}},
		{"{.} of a name without extension is the name", "echo {.}", one("dir.d/file"), []string{"echo", "dir.d/file"}},
		{"{.} keeps a dot file", "echo {.} {/.}", one("dir/.bashrc"), []string{"echo", "dir/.bashrc", ".bashrc"}},
		{"{.} keeps a trailing dot", "echo {.}", one("file."), []string{"echo", "file."}},
		{"{/} is the basename", "echo {/}", one("dir/sub/f.txt"), []string{"echo", "f.txt"}},
		{"{/} of a bare name is the name", "echo {/}", one("f"), []string{"echo", "f"}},
		{"{/} of a path ending in / is empty", "echo {/}", one("dir/"), []string{"echo", ""}},
		{"{//} is the dirname", "echo {//}", one("dir/sub/f"), []string{"echo", "dir/sub"}},
		{"{//} of a bare name is .", "echo {//}", one("f"), []string{"echo", "."}},
		{"{//} of a file in / is /", "echo {//}", one("/f"), []string{"echo", "/"}},
		{"{//} of ./f is .", "echo {//}", one("./f"), []string{"echo", "."}},
		{"{//} ignores trailing slashes", "echo {//}", one("a/b/"), []string{"echo", "a"}},
		{"{//} of / is /", "echo {//}", one("/"), []string{"echo", "/"}},
		{"{//} squeezes the slashes before the name", "echo {//}", one("a//b"), []string{"echo", "a"}},
		{"{/.} is the basename without extension", "echo {/.}", one("dir/f.tar.gz"), []string{"echo", "f.tar"}},
		{"{#} and {%} are the sequence number and slot", "echo {#} {%} x{#}y", Vars{Records: [][]string{{"a"}}, Seq: 1234, Slot: 3}, []string{"echo", "1234", "3", "x1234y"}},
		{"{N} is the N-th input source", "echo {2} {1}", Vars{Records: [][]string{{"a", "b"}}}, []string{"echo", "b", "a"}},
		{"{N} takes the path forms", "echo {1.} {1/} {2//} {2/.}", Vars{Records: [][]string{{"d/a.c", "e/f/b.c"}}}, []string{"echo", "d/a", "a.c", "e/f", "b"}},
		{"{} of several sources is their values as words", "echo {}", Vars{Records: [][]string{{"a b", "c"}}}, []string{"echo", "a b", "c"}},
		{"{} of several sources in quotes is one word", `echo "{}"`, Vars{Records: [][]string{{"a b", "c"}}}, []string{"echo", "a b c"}},
		{"{1} of one source is the item", "echo {1}", one("x"), []string{"echo", "x"}},
		{"a chunk repeats the word around {}", "echo pre-{}-post", chunk("a", "b"), []string{"echo", "pre-a-post", "pre-b-post"}},
		{"a chunk repeats each word with {}", "cp {} {/}.bak /dst", chunk("d/a", "d/b"), []string{"cp", "d/a", "d/b", "a.bak", "b.bak", "/dst"}},
		{"a chunk with one source gives {N} the N-th record", "echo {2} {1} {#}", chunk("a", "b", "c"), []string{"echo", "b", "a", "1"}},
		{"a short chunk gives an empty {N}", "echo x{4}y", chunk("a", "b"), []string{"echo", "xy"}},
		{"a chunk with several sources repeats words with {N}", "echo {1}:{2} {#}", Vars{Records: [][]string{{"a", "1"}, {"b", "2"}}, Seq: 9}, []string{"echo", "a:1", "b:2", "9"}},
		{"no replacement appends the item", "echo", one("a b"), []string{"echo", "a b"}},
		{"no replacement appends every value of every record", "echo -n", Vars{Records: [][]string{{"a", "1"}, {"b", "2"}}}, []string{"echo", "-n", "a", "1", "b", "2"}},
		{"an awk program is not a replacement", "awk '{print $1}'", one("f"), []string{"awk", "{print $1}", "f"}},
		{"other braces are not replacements", "echo {foo} {a,b} {0} {01} {-1} {.x} {}", one("v"), []string{"echo", "{foo}", "{a,b}", "{0}", "{01}", "{-1}", "{.x}", "v"}},
		{"${1} inside single quotes stays for the shell", "sh -c 'echo ${1}' _ {}", one("v"), []string{"sh", "-c", "echo ${1}", "_", "v"}},
		{"an escaped brace is literal", `echo \{} {}`, one("v"), []string{"echo", "{}", "v"}},
		{"{} inside single quotes is the item", "echo 'x {} y'", one("a'b $c"), []string{"echo", "x a'b $c y"}},
		{"{} inside double quotes is the item", `echo "x {} y"`, one(`a"b $c`), []string{"echo", `x a"b $c y`}},
		{"an empty item is an empty word", "printf %s {} x", one(""), []string{"printf", "%s", "", "x"}},
		{"an empty item in quotes is an empty word", `printf %s "{}" '{}'`, one(""), []string{"printf", "%s", "", ""}},
		{"invalid UTF-8 passes through", "echo {} '{}'", one("\xff\xfe"), []string{"echo", "\xff\xfe", "\xff\xfe"}},
		{"an item with = is not an assignment", "{} x", one("A=1"), []string{"A=1", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustExpand(t, []string{tt.tmpl}, tt.vars)
			if c.Shell || !slices.Equal(c.Argv, tt.argv) {
				t.Fatalf("%q with %q = %+v, want a direct exec of %q", tt.tmpl, tt.vars.Records, c, tt.argv)
			}
		})
	}
}

func TestTemplateHostileItemsAreData(t *testing.T) {
	items := []string{
		"a; rm -rf x",
		"$(touch y)",
		"`touch y`",
		"'",
		`"`,
		`'; touch y; '`,
		`"; touch y; "`,
		"a\nb",
		"\ntouch y\n",
		"*",
		"~",
		"#",
		"A=1",
		"-n",
		`\`,
		"}",
		"${HOME}",
		"a b\tc",
		strings.Repeat("ab'\"", 25<<10), // 100 KB
	}
	for _, tmpl := range []string{"echo {}", "echo '{}'", `echo "{}"`, "echo x{}y", `echo "x{}y" 'x{}y'`} {
		for _, item := range items {
			name := "item " + item
			if len(name) > 40 {
				name = name[:40]
			}
			t.Run(tmpl+" with "+name+" is an argument", func(t *testing.T) {
				c := mustExpand(t, []string{tmpl}, one(item))
				if c.Shell {
					t.Fatalf("%q with %q needs a shell: %q", tmpl, item, c.Line)
				}
				for _, a := range c.Argv[1:] {
					if a != item && a != "x"+item+"y" {
						t.Fatalf("%q with %q gives the argument %q", tmpl, item, a)
					}
				}
			})
		}
	}
}

func TestTemplateHostileItemsInShellLinesAreData(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	items := []string{
		"a; touch y",
		"$(touch y)",
		"`touch y`",
		"'",
		`"`,
		`'; touch y; '`,
		`"; touch y; "`,
		"a\ntouch y\nb", // (not at the end: $( ) drops trailing newlines)
		"*",
		"~",
		"A=1",
		`\`,
		"$'\\x41'",
		"a b",
	}
	// Every way to place a replacement that this package quotes, in a line
	// that needs a shell.
	tmpl := `printf '<%s>\n' {} '{}' "{}" x{}y "x{}y" 'x{}y' $'{}' $'x{}y' "$(printf %s {})" "$(printf %s "{}")" $(printf %s '{}' | od -An -c | tr -d ' \n' >/dev/null; printf ok) | cat # {}`
	for _, item := range items {
		t.Run("item "+item+" is data in every quoting", func(t *testing.T) {
			c := mustExpand(t, []string{tmpl}, one(item))
			if !c.Shell {
				t.Fatalf("%q is a direct exec", c.Line)
			}
			dir := t.TempDir()
			cmd := exec.Command(bash, "-c", c.Line)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash -c %q: %v\n%s", c.Line, err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "y")); err == nil {
				t.Fatalf("bash -c %q ran the item", c.Line)
			}
			var want strings.Builder
			for _, f := range []string{"%s", "%s", "%s", "x%sy", "x%sy", "x%sy", "%s", "x%sy", "%s", "%s"} {
				want.WriteString("<" + strings.Replace(f, "%s", item, 1) + ">\n")
			}
			want.WriteString("<ok>\n")
			if string(out) != want.String() {
				t.Errorf("bash -c %q printed\n%s\nwant\n%s", c.Line, out, want.String())
			}
		})
	}
}

func TestTemplateShellLines(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		vars Vars
		line string
	}{
		{"a pipe runs in a shell with the item quoted", "cat {} | wc -l", one("a b"), "cat 'a b' | wc -l"},
		{"a chunk repeats the shell word around {}", "gzip -c {} > {}.gz", chunk("a", "b c"), "gzip -c a 'b c' > a.gz 'b c'.gz"},
		{"a word inside $( ) repeats whole", "echo $(basename {})", chunk("a", "b"), "echo $(basename a) $(basename b)"},
		{"{} inside a comment stays", "echo {} # {}", one("a b"), "echo 'a b' # {}"},
		{"{} inside ${ } stays", "echo ${x:-{}} {}", one("v"), "echo ${x:-{}} v"},
		{"an item with = is quoted", "env {} x | cat", one("A=1"), "env 'A=1' x | cat"},
		{"a value in double quotes closes them", `echo "{}" | cat`, one("a b"), `echo ""'a b'"" | cat`},
		{"a safe value in quotes is written as it is", `echo "{}" '{}' | cat`, one("ab"), `echo "ab" 'ab' | cat`},
		{"no replacement appends the quoted items", "echo | cat", one("a b"), "echo | cat 'a b'"},
		{"no replacement appends before a comment", "echo | cat # note", one("x\ntouch y"), "echo | cat 'x\ntouch y' # note"},
		{"no replacement appends before a here-document", "cat - <<EOF\nit's\nEOF", one("a b"), "cat - <<EOF 'a b'\nit's\nEOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustExpand(t, []string{tt.tmpl}, tt.vars)
			if !c.Shell || c.Line != tt.line {
				t.Fatalf("%q with %q = %+v, want the shell line %q", tt.tmpl, tt.vars.Records, c, tt.line)
			}
		})
	}
}

func TestTemplateArgv(t *testing.T) {
	long := strings.Repeat("\xff'x", 40<<10)
	tests := []struct {
		name string
		args []string
		vars Vars
		argv []string
		line string
	}{
		{"the words are kept and the item appended", []string{"sh", "-c", `echo "$1" | wc -c`, "_"}, one("a; b"), []string{"sh", "-c", `echo "$1" | wc -c`, "_", "a; b"}, `sh -c 'echo "$1" | wc -c' _ 'a; b'`},
		{"values are raw bytes inside a word", []string{"echo", "pre-{}-post", "{#}"}, Vars{Records: [][]string{{"$(x) 'y'"}}, Seq: 7}, []string{"echo", "pre-$(x) 'y'-post", "7"}, `echo 'pre-$(x) '\''y'\''-post' 7`},
		{"a value is never split", []string{"echo", "{}"}, one("a b\nc"), []string{"echo", "a b\nc"}, "echo 'a b\nc'"},
		{"path forms and sources", []string{"mv", "{1}", "{2//}/{1/.}.{2/}"}, Vars{Records: [][]string{{"x/a.txt", "d/e/f"}}}, []string{"mv", "x/a.txt", "d/e/a.f"}, "mv x/a.txt d/e/a.f"},
		{"a chunk repeats the word", []string{"echo", "-f={}", "end"}, chunk("a", "b"), []string{"echo", "-f=a", "-f=b", "end"}, "echo -f=a -f=b end"},
		{"${1} stays for the shell", []string{"sh", "-c", "echo ${1}", "_", "{}"}, one("v"), []string{"sh", "-c", "echo ${1}", "_", "v"}, "sh -c 'echo ${1}' _ v"},
		{"an empty word stays", []string{"printf", "%s|", "", "{}"}, one(""), []string{"printf", "%s|", "", ""}, "printf '%s|' '' ''"},
		{"{} of several sources is joined by a space", []string{"echo", "{}"}, Vars{Records: [][]string{{"a", "b"}}}, []string{"echo", "a b"}, "echo 'a b'"},
		{"no replacement appends all values", []string{"echo", "-n"}, Vars{Records: [][]string{{"a", "1"}, {"b", "2"}}}, []string{"echo", "-n", "a", "1", "b", "2"}, "echo -n a 1 b 2"},
		{"a 100 KB item with invalid UTF-8 is kept", []string{"echo", "{}"}, one(long), []string{"echo", long}, "echo " + shell.Quote(long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustExpand(t, tt.args, tt.vars)
			if c.Shell || !slices.Equal(c.Argv, tt.argv) || c.Line != tt.line {
				t.Fatalf("%q with %q = %+v, want argv %q, line %q", tt.args, tt.vars.Records, c, tt.argv, tt.line)
			}
			// The Line reads back as the argv.
			back, err := shell.ParseLine(c.Line)
			if err != nil || !slices.Equal(back.Argv, c.Argv) {
				t.Errorf("ParseLine(%q) = %+v, %v; want %q", c.Line, back, err, c.Argv)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		alsoSynax bool
	}{
		{"no command is an error", nil, false},
		{"an empty command is an error", []string{""}, false},
		{"a blank command is an error", []string{" \t "}, false},
		{"an empty program in argv form is an error", []string{"", "{}"}, false},
		{"an unterminated quote is an error", []string{"echo '{}"}, true},
		{"a trailing backslash is an error", []string{`echo {} \`}, true},
		{"a comment alone is an error", []string{"# {}"}, false},
		{"an operator alone is an error", []string{" ; "}, false},
		{"{} inside backquotes is an error", []string{"echo `basename {}`"}, false},
		{"{} in a here-document is an error", []string{"cat <<EOF\n{}\nEOF"}, false},
		{"{} after a case inside $( ) is an error", []string{"echo $(case x in a) echo {};; esac)"}, false},
		{"{} after a quote inside ${ } is an error", []string{`echo "${x:-'}" {}`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.args)
			if !errors.Is(err, ErrTemplate) {
				t.Fatalf("Parse(%q) = %v, %v; want ErrTemplate", tt.args, tmpl, err)
			}
			if tt.alsoSynax && !errors.Is(err, shell.ErrSyntax) {
				t.Errorf("Parse(%q) = %v, want it to wrap ErrSyntax too", tt.args, err)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	t.Run("a source there is not is a template error", func(t *testing.T) {
		tmpl, _ := Parse([]string{"echo {3}"})
		_, err := tmpl.Expand(Vars{Records: [][]string{{"a", "b"}}})
		if !errors.Is(err, ErrTemplate) {
			t.Errorf("Expand = %v, want ErrTemplate", err)
		}
	})
	t.Run("no record is a template error", func(t *testing.T) {
		tmpl, _ := Parse([]string{"echo {}"})
		if _, err := tmpl.Expand(Vars{}); !errors.Is(err, ErrTemplate) {
			t.Errorf("Expand = %v, want ErrTemplate", err)
		}
	})
	t.Run("a NUL byte in an item fails the line form with its line", func(t *testing.T) {
		tmpl, _ := Parse([]string{"echo {}"})
		c, err := tmpl.Expand(one("a\x00b"))
		if !errors.Is(err, shell.ErrSyntax) || c.Line != "echo 'a\x00b'" {
			t.Errorf("Expand = %+v, %v; want ErrSyntax and the line", c, err)
		}
	})
	t.Run("a NUL byte in an item fails the argv form", func(t *testing.T) {
		tmpl, _ := Parse([]string{"echo", "{}"})
		if _, err := tmpl.Expand(one("a\x00b")); !errors.Is(err, shell.ErrSyntax) {
			t.Errorf("Expand = %v, want ErrSyntax", err)
		}
	})
}

func TestTemplateFlags(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		slot, hasRepls bool
	}{
		{"a plain command has no replacement", []string{"gzip -9"}, false, false},
		{"literal braces are no replacement", []string{"awk '{print}' ${HOME} {x}"}, false, false},
		{"{} is a replacement", []string{"gzip {}"}, false, true},
		{"{#} alone is a replacement", []string{"echo", "{#}"}, false, true},
		{"{%} uses the slot", []string{"echo job{%}"}, true, true},
		{"{%} in argv form uses the slot", []string{"echo", "{%}"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.UsesSlot() != tt.slot || tmpl.HasReplacement() != tt.hasRepls {
				t.Errorf("%q: UsesSlot %v HasReplacement %v, want %v %v", tt.args, tmpl.UsesSlot(), tmpl.HasReplacement(), tt.slot, tt.hasRepls)
			}
		})
	}
}

func BenchmarkExpand(b *testing.B) {
	for _, bm := range []struct {
		name string
		args []string
		vars Vars
	}{
		{"line direct", []string{"convert {} -resize 50% {.}.png"}, one("photos/img 001.jpg")},
		{"line shell", []string{"gzip -c {} > {}.gz"}, one("logs/app.log")},
		{"line append", []string{"echo"}, one("item-123")},
		{"argv", []string{"sh", "-c", `echo "$1"`, "_", "{}"}, one("photos/img 001.jpg")},
		{"chunk of 10", []string{"echo {}"}, chunk("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")},
	} {
		tmpl, err := Parse(bm.args)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Expand(bm.vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// runsItem reports whether a shell, running the expansion of tmpl with
// item in an empty directory, runs the item's touch y.
func runsItem(t *testing.T, shell string, tmpl *Template, item string) (bool, string) {
	t.Helper()
	c, err := tmpl.Expand(one(item))
	if err != nil {
		t.Fatalf("Expand with %q: %v", item, err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, "-c", c.Line)
	cmd.Dir = dir
	cmd.Run() // many are not valid shell: only what runs matters
	_, err = os.Stat(filepath.Join(dir, "y"))
	return err == nil, c.Line
}

// hostileItems each run touch y if they are ever code.
var hostileItems = []string{
	"$(touch y)", "`touch y`", "'; touch y; '", `"; touch y; "`, "\ntouch y\n",
	`\'; touch y #`, "x\n touch y #", "'$(touch y)'", `"$(touch y)"`, "$'\\n'touch y",
	// For array subscripts ([{}]=v, unset a[…]): bash evaluates what
	// they hold, and a reference to x[…] in it expands its own subscript.
	"x[$(touch y)]", "]=$(touch y)", "] $(touch y) [", "0]=1 x[$(touch y)",
}

// shells are the shells a test of quoting runs: bash and a POSIX sh that
// is not bash (dash), when there.
func shells(t *testing.T) []string {
	var found []string
	for _, name := range []string{"bash", "dash"} {
		if p, err := exec.LookPath(name); err == nil {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		t.Skip("no bash nor dash")
	}
	return found
}

// TestTemplateQuotingRegressions are templates where quoting once went
// wrong (found by TestTemplateRandomShellLinesNeverRunItems): they are
// refused, or their items stay data in bash and in dash.
func TestTemplateQuotingRegressions(t *testing.T) {
	for _, text := range []string{
		"echo $((x{}y))",
		"echo ; a[echo \n{.} | echo ]=",
		"echo ]='{}'{}; a[}))'{}']=",
		"echo a[ # ]=echo {} ; ",
		"echo $' \\echo `echo {} ((\\'{}'",
		"echo \n$']=echo `a[;; esacx{}y\\'{}'",
		"(( x{} ))",
		"declare a[{}]=1",
		"arr=([{}]=1)",
		"arr=([{}]+=1)",
		"arr=([x{}y]=1 [{}])",
		"arr=( [{}] )",
		"declare -a arr=([ {} ]=1)",
		"arr=([[{}]=1)",
		"arr+=(x [ {} ]+=1)",
		"arr=(\n[{}]=1)",
		"echo [{}]",
		"echo [{}]=1",
		"echo [x{.}y] [{}",
		"unset [{}]",
		"printf -v [{}] x",
		"echo [\"{}\"] ['{}'] [$'{}']",
		"echo [[{}]]",
		"[{}]",
		"echo $[ {} ]",
		`echo "${x:-'}" {}`,
		"echo $(case x in a) echo {};; esac) \"{}\"",
	} {
		t.Run(text, func(t *testing.T) {
			tmpl, err := Parse([]string{text})
			if err != nil {
				if !errors.Is(err, ErrTemplate) {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			for _, sh := range shells(t) {
				for _, item := range hostileItems {
					if ran, line := runsItem(t, sh, tmpl, item); ran {
						t.Fatalf("%s -c %q ran the item %q", sh, line, item)
					}
				}
			}
		})
	}
}

// TestTemplateRandomShellLinesNeverRunItems puts hostile items into
// random templates built of shell syntax and runs what expands under bash
// and dash: no item ever runs.
func TestTemplateRandomShellLinesNeverRunItems(t *testing.T) {
	if testing.Short() {
		t.Skip("runs shells many times")
	}
	shells := shells(t)
	// (Substitutions come after an echo: a template that runs their output,
	// as $(echo {}) alone would, runs data on purpose, like eval.)
	pieces := []string{
		"echo ", "{}", "{.}", "x{}y", " ", "'", `"`, "echo $(", ")", "${x:-", "}", " # ", "\n",
		" | ", "; ", "x", "'{}'", `"{}"`, "$'", "<<EOF\n", "echo `", "case a in a) ", ";; esac", `\\`,
		"(", "$((", "))", "{", "echo {} ", "a[", "]=", "[", "]", "]+=", "[{}]", "x=(",
	}
	r := rand.New(rand.NewPCG(7, 8))
	for tried := 0; tried < 100; {
		var b strings.Builder
		b.WriteString("echo ")
		for range 2 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		tmpl, err := Parse([]string{b.String()})
		if err != nil || !tmpl.HasReplacement() {
			continue
		}
		tried++
		sh := shells[tried%len(shells)]
		for _, item := range hostileItems {
			if ran, line := runsItem(t, sh, tmpl, item); ran {
				t.Fatalf("template %q with item %q: %s -c %q ran the item", b.String(), item, sh, line)
			}
		}
	}
}

func TestCheckInputsRefusesAnNThatCanOnlyBeEmpty(t *testing.T) {
	tests := []struct {
		name            string
		tmpl            string
		opt             Options
		sources, perJob int
		wantErr         string // "" for none
	}{
		{"{2} of one source is refused", "rm -rf {2}/*", Options{}, 1, 1, "{2}, but there is only 1 input source"},
		{"{3} of two sources is refused", "echo {3}", Options{}, 2, 1, "{3}, but there are only 2 input sources"},
		{"{2.} counts as {2}", "echo {2.}", Options{}, 1, 1, "{2}, but there is only 1 input source"},
		{"{2} of two sources is fine", "echo {1} {2}", Options{}, 2, 1, ""},
		{"{1} of one source is fine", "echo {1}", Options{}, 1, 1, ""},
		{"{2} with -n 2 is the second item", "echo {1} {2}", Options{}, 1, 2, ""},
		{"{3} with -n 2 is refused", "echo {3}", Options{}, 1, 2, "-n 2 puts at most 2 items"},
		{"{5} with -X is not known in advance", "echo {} {5}", Options{}, 1, 0, ""},
		{"{1} with --pipe is refused", "echo {1}", Options{}, 0, 1, "--pipe jobs have no input item"},
		{"{} with --pipe is fine", "echo {} {#}", Options{}, 0, 1, ""},
		{"fields are counted per line", "echo {9}", Options{Fields: true}, 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseWith([]string{tt.tmpl}, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			err = tmpl.CheckInputs(tt.sources, tt.perJob)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckInputs: %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrTemplate)):
				t.Fatalf("CheckInputs: %v, want an ErrTemplate saying %q", err, tt.wantErr)
			}
		})
	}
}

// TestTemplateGlobBracketQuotesTheItem: a [ … ] that starts a word is a
// glob bracket expression (GNU parallel runs echo [{}] as a shell line
// too): the template is accepted, the item inside is always quoted, so
// none of its bytes is a range, a negation or a bracket, and it runs as
// the shell runs it; only a [k]=v array assignment is refused.
func TestTemplateGlobBracketQuotesTheItem(t *testing.T) {
	tests := []struct {
		name, tmpl, item string
		line             string // the expanded line; "" when refused
	}{
		{"echo [{}] quotes a plain item", "echo [{}]", "ab", "echo ['ab']"},
		{"a range in the item is literal", "echo [{}]", "a-z", "echo ['a-z']"},
		{"a quote in the item is escaped", "echo x [{}.]", "it's", `echo x ['it'\''s'.]`},
		{"an empty item is an empty pair of quotes", "echo [{}]", "", "echo ['']"},
		{"inside quotes the template's quotes hold", "echo ['{}']", "a b", "echo ['''a b''']"},
		{"[ -f {} ] is the test command", "[ -f {} ] && echo {}", "a b", "[ -f 'a b' ] && echo 'a b'"},
		{"a compound array assignment is refused", "a=([{}]=1)", "ab", ""},
		{"an appending one too", "a=([x{}]+=1)", "ab", ""},
		{"blanks in its subscript too", "declare -a a=(x [ {} ]=1)", "ab", ""},
		{"[[ in its subscript too", "a=([[{}]=1)", "ab", ""},
		{"name[…] stays refused (unset, read, printf -v evaluate it)", "unset a[{}]", "ab", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]string{tt.tmpl})
			if tt.line == "" {
				if !errors.Is(err, ErrTemplate) {
					t.Fatalf("Parse(%q) = %v, want an ErrTemplate", tt.tmpl, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.tmpl, err)
			}
			c, err := tmpl.Expand(one(tt.item))
			if err != nil || c.Line != tt.line || !c.Shell {
				t.Fatalf("Expand(%q) = %+v, %v; want the shell line %q", tt.item, c, err, tt.line)
			}
		})
	}

	// Under bash and dash: [ab] with no file a nor b; the item's bytes
	// match only themselves when files are there.
	tmpl, err := Parse([]string{"echo [{}]"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells(t) {
		for _, tc := range []struct{ item, files, want string }{
			{"ab", "", "[ab]\n"},
			{"a-c", "b", "[a-c]\n"},
			{"!x", "y", "[!x]\n"},
			{"a]", "b", "[a]]\n"},
			{"ab", "a", "a\n"}, // the template's glob, as in the shell and GNU parallel
		} {
			dir := t.TempDir()
			if tc.files != "" {
				if err := os.WriteFile(filepath.Join(dir, tc.files), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := tmpl.Expand(one(tc.item))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sh, "-c", c.Line)
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil || string(out) != tc.want {
				t.Errorf("%s -c %q with the file %q: %q, %v; want %q", sh, c.Line, tc.files, out, err, tc.want)
			}
		}
	}
}

// patience bounds every wait of this package's tests that is not itself
// under test: a test that needs it has hung. It is generous, so that a
// loaded machine (a -race build, other packages tested at once) never runs
// out of it.
const patience = time.Minute
