package cmd

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/shell"
)

// mapCommands parses `futures map args…`, makes its source of jobs as
// runMap does (opening its inputs; stdin is the given text) and returns
// the command line of each job, running none.
func mapCommands(t *testing.T, stdin string, args ...string) (*mapOptions, []shell.Command) {
	t.Helper()
	f, _, _ := testFactory(nil)
	f.stdin = strings.NewReader(stdin)
	o := parseArgs(t, f, newCmdMap, args...)
	opt, d, tmpl, err := o.check()
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	files := &input.Files{Stdin: f.stdin}
	defer files.Close()
	src, closeInputs, err := o.mapSource(files, opt, d, tmpl)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	defer closeInputs()
	var cmds []shell.Command
	for {
		j, err := src()
		if errors.Is(err, io.EOF) {
			return o, cmds
		}
		if err != nil {
			t.Fatalf("%q: job %d: %v", args, len(cmds)+1, err)
		}
		c, err := j.Command(1)
		if err != nil {
			t.Fatalf("%q: job %d: %v", args, j.Seq, err)
		}
		cmds = append(cmds, c)
	}
}

// lines are the Line of each command.
func lines(cmds []shell.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Line)
	}
	return out
}

func TestMapArgumentForms(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	letters := write("letters", "a\nb\nc\n")
	numbers := write("numbers", "1\n2\n")

	t.Run("one argument is a command line, run by the shell when it needs one", func(t *testing.T) {
		o, cmds := mapCommands(t, "", "gzip -c {} > {}.gz", ":::", "a b")
		if !reflect.DeepEqual(o.command, []string{"gzip -c {} > {}.gz"}) {
			t.Errorf("command %q", o.command)
		}
		want := []shell.Command{{Line: `gzip -c 'a b' > 'a b'.gz`, Shell: true}}
		if !reflect.DeepEqual(cmds, want) {
			t.Errorf("commands %+v, want %+v", cmds, want)
		}
	})
	t.Run("several arguments are an argv, kept word for word", func(t *testing.T) {
		o, cmds := mapCommands(t, "", "sh", "-c", `echo "$1" {}`, "_", ":::", "a b")
		if len(o.command) != 4 {
			t.Errorf("command %q, want 4 words", o.command)
		}
		if len(cmds) != 1 || cmds[0].Shell || !reflect.DeepEqual(cmds[0].Argv, []string{"sh", "-c", `echo "$1" a b`, "_"}) {
			t.Errorf("commands %+v, want one argv: sh -c 'echo \"$1\" a b' _", cmds)
		}
	})
	t.Run("flags after COMMAND are its own", func(t *testing.T) {
		o, cmds := mapCommands(t, "", "echo", "-j", "3", ":::", "x")
		if o.jobs != "" || !reflect.DeepEqual(lines(cmds), []string{"echo -j 3 x"}) {
			t.Errorf("-j %q, commands %q; want -j unset and echo -j 3 x", o.jobs, lines(cmds))
		}
	})
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"with no input source, stdin", "a\nb\n", []string{"echo"}, []string{"echo a", "echo b"}},
		{"a ::: group is one source", "", []string{"echo", ":::", "a", "b"}, []string{"echo a", "echo b"}},
		{"several ::: groups are zipped, stopping at the shortest", "", []string{"echo {2}{1}", ":::", "a", "b", "c", ":::", "1", "2"}, []string{"echo 1a", "echo 2b"}},
		{"--product combines them, the last varying fastest", "", []string{"--product", "echo {1}{2}", ":::", "a", "b", ":::", "1", "2"}, []string{"echo a1", "echo a2", "echo b1", "echo b2"}},
		{"each FILE of a :::: group is one source", "", []string{"echo {1}{2}", "::::", letters, numbers}, []string{"echo a1", "echo b2"}},
		{"-a FILEs come before the groups", "", []string{"-a", numbers, "echo {1}{2}", ":::", "x", "y"}, []string{"echo 1x", "echo 2y"}},
		{"-a - is stdin", "s\n", []string{"-a", "-", "-a", letters, "echo"}, []string{"echo s a"}},
		{"-n puts N items in each command", "", []string{"-n", "2", "echo", ":::", "1", "2", "3"}, []string{"echo 1 2", "echo 3"}},
		{"-I STR stands for the item", "", []string{"-I", "%", "echo %.txt {}", ":::", "a b"}, []string{"echo 'a b'.txt {}"}},
		{"--colsep splits items into fields", "", []string{"--colsep", ",", "echo {2}", ":::", "a,b"}, []string{"echo b"}},
		{"--header : names the columns", "", []string{"--header", ":", "--colsep", ",", "echo {y}", ":::", "x,y", "1,2"}, []string{"echo 2"}},
		{"--csv reads quoted fields", "", []string{"--csv", "echo {2}", ":::", `a,"b, c"`}, []string{"echo 'b, c'"}},
		{"-0 splits stdin at NUL", "a b\x00c", []string{"-0", "echo"}, []string{"echo 'a b'", "echo c"}},
		{"-d splits stdin at another byte", "a,b", []string{"-d", ",", "echo"}, []string{"echo a", "echo b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cmds := mapCommands(t, tc.stdin, tc.args...)
			if got := lines(cmds); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: commands %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

func TestMapParsesItsArguments(t *testing.T) {
	f, _, _ := testFactory(nil)
	o := parseArgs(t, f, newCmdMap, "-a", "x", "--arg-file", "y", "-n", "3", "-X", "echo", ":::", "a", "::::", "f", "g", ":::")
	want := []input.Group{{Args: []string{"a"}}, {Files: true, Args: []string{"f", "g"}}, {}}
	if !reflect.DeepEqual(o.argFiles, []string{"x", "y"}) || o.chunksize != 3 || !o.inputs.fill ||
		!reflect.DeepEqual(o.command, []string{"echo"}) || !reflect.DeepEqual(o.inputs.groups, want) || !o.hasItems {
		t.Errorf("argFiles %q, chunksize %d, -X %v, command %q, groups %+v, hasItems %v",
			o.argFiles, o.chunksize, o.inputs.fill, o.command, o.inputs.groups, o.hasItems)
	}
	if o := parseArgs(t, f, newCmdMap, "echo"); o.chunksize != 1 || o.hasItems || o.inputs.groups != nil || !o.keepOrder {
		t.Errorf("defaults: chunksize %d, hasItems %v, groups %+v, -k %v; want 1, false, none, true", o.chunksize, o.hasItems, o.inputs.groups, o.keepOrder)
	}
}

func TestMapPipeOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want input.PipeOptions
	}{
		{[]string{"--pipe", "wc"}, input.PipeOptions{RecEnd: "\n", Slots: testCPUs}},
		{[]string{"--pipe", "-j3", "wc"}, input.PipeOptions{RecEnd: "\n", Slots: 3}},
		{[]string{"--pipe", "--block", "1M", "-j3", "wc"}, input.PipeOptions{BlockSize: 1 << 20, RecEnd: "\n", Slots: 3}},
		{[]string{"--pipe", "--block", "512K", "--recend", `\0`, "wc"}, input.PipeOptions{BlockSize: 512 << 10, RecEnd: "\x00", Slots: testCPUs}},
		{[]string{"--pipe", "--block", "2m", "wc"}, input.PipeOptions{BlockSize: 2e6, RecEnd: "\n", Slots: testCPUs}},
		{[]string{"--pipe", "-N", "5", "--recend", `;\x0a`, "-a", "in", "wc"}, input.PipeOptions{RecEnd: ";\n", Records: 5, Slots: testCPUs}},
		{[]string{"--pipe", "--recend", "", "--block", "10", "wc"}, input.PipeOptions{BlockSize: 10, Slots: testCPUs}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _ := testFactory(nil)
			o := parseArgs(t, f, newCmdMap, tc.args...)
			opt, _, tmpl, err := o.check()
			if err != nil {
				t.Fatal(err)
			}
			got, err := o.pipeOptions(opt, tmpl)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// checkMap does what runMap does before anything runs: checks the flags,
// then those of --pipe or makes the source of jobs from the inputs.
func checkMap(o *mapOptions) error {
	opt, d, tmpl, err := o.check()
	if err != nil {
		return err
	}
	if o.pipe.on {
		_, err := o.pipeOptions(opt, tmpl)
		return err
	}
	files := &input.Files{Stdin: o.f.stdin}
	defer files.Close()
	_, closeInputs, err := o.mapSource(files, opt, d, tmpl)
	if err == nil {
		closeInputs()
	}
	return err
}

// TestMapUsageErrors holds map's own usage errors: the message, exit
// status 2, and nothing run.
func TestMapUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `map: missing COMMAND, the command to run for each item (futures map 'gzip {}' ::: a.log)`},
		{[]string{":::", "a"}, `map: missing COMMAND before :::`},
		{[]string{"-n", "0", "echo"}, `--chunksize 0: want 1 or more`},
		{[]string{"--chunksize", "-3", "--pipe", "wc"}, `--chunksize -3: want 1 or more`},
		{[]string{"-0", "-d", ",", "echo"}, `-0 and -d: choose one`},
		{[]string{"-d", "ab", "echo"}, `-d "ab": want one byte or an escape like \t, \0, \x1f`},
		{[]string{"echo 'a", ":::", "a"}, `bad template: syntax error: unterminated single quote at byte offset 5`},
		{[]string{"echo", "{3}", ":::", "a", ":::", "b"}, `bad template: {3}, but there are only 2 input sources`},
		{[]string{"echo", "::::"}, `:::: needs one FILE or more`},
		{[]string{"-a", "-", "echo", "::::", "-"}, `stdin (-) can be only one input source`},
		{[]string{"-I", "%", "-n", "2", "echo", ":::", "a"}, `-I puts one item in each command: it does not go with -X or -n`},
		{[]string{"--csv", "-0", "echo", ":::", "a"}, `--csv reads CSV records: it does not go with -0 or -d`},
		{[]string{"--header", "x", "echo", ":::", "a"}, `--header "x": want ':' (the first line) or a number of lines`},
		{[]string{"--pipe", "--csv", "wc"}, `--pipe reads blocks: it does not go with --product, --colsep, --csv, --header or -X`},
		{[]string{"--pipe", "wc", ":::", "a"}, `--pipe reads blocks from stdin (or -a FILE), not ::: items`},
		{[]string{"--pipe", "-a", "x", "-a", "y", "wc"}, `--pipe reads one input: stdin or a single -a FILE`},
		{[]string{"--pipe", "-n", "2", "wc"}, `--chunksize does not go with --pipe (-N: records per block)`},
		{[]string{"--pipe", "--executor", "process", "wc"}, `--pipe needs --executor thread: a job in a worker process cannot be given stdin yet`},
		{[]string{"--pipe", "-S", "h", "wc"}, `--pipe needs --executor thread: a job in a worker process cannot be given stdin yet`},
		{[]string{"--pipe", "--joblog", "l", "--resume", "--resume-by", "command", "wc"}, `--resume-by command does not go with --pipe: every block runs the same command`},
		{[]string{"--pipe", "-N", "-1", "wc"}, `-N -1: want 1 or more records per block`},
		{[]string{"--pipe", "--block", "2G", "wc"}, `--block "2G": want a size from 1 byte to 1G, like 1M or 512k`},
		{[]string{"--pipe", "--recend", `\q`, "wc"}, `--recend "\\q": \q is not an escape (\n, \t, \r, \0, \\, \xHH)`},
		{[]string{"--pipe", "-N", "2", "--recend", "", "wc"}, `-N needs a record end: --recend must not be empty`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _ := testFactory(nil)
			var made bool
			status, stderr := runArgs(t, f, newCmdMap, func(o *mapOptions) error {
				err := checkMap(o)
				if err != nil && !errors.As(err, new(usageError)) {
					t.Errorf("%q: %v is not a usage error", tc.args, err)
				}
				made = err == nil
				return err
			}, tc.args...)
			if status != 2 || made {
				t.Errorf("%q: exit status %d, jobs made: %v; want 2, false", tc.args, status, made)
			}
			if want := usageMessage("map", tc.want); stderr != want {
				t.Errorf("%q: stderr\n%q\nwant\n%q", tc.args, stderr, want)
			}
		})
	}
}
