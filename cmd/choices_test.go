package cmd

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCmd runs the futures command line args over in-memory streams.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	root := NewRootCmd(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// TestEveryChoiceValueIsAccepted holds the values that completion offers
// to the flags' checks: each one runs (dry), and a value not listed is
// refused with the list.
func TestEveryChoiceValueIsAccepted(t *testing.T) {
	for _, c := range choices {
		command := []string{"map", "--dry-run", "-q"}
		if c.flag == "return-when" || c.flag == "then" {
			command = []string{"wait", "--dry-run", "-q"}
		}
		if c.flag == "resume-by" {
			command = append(command, "--joblog", filepath.Join(t.TempDir(), "log"), "--resume")
		}
		if c.flag == "worker-loss" {
			command = append(command, "--executor", "process") // requeue needs it
		}
		for _, v := range c.values {
			t.Run(c.flag+" "+v, func(t *testing.T) {
				args := append(slices.Clone(command), "--"+c.flag, v)
				if command[0] == "map" {
					args = append(args, "true", ":::", "a")
				}
				if _, stderr, err := runCmd(t, "true\n", args...); err != nil {
					t.Errorf("futures %s: %v %s", strings.Join(args, " "), err, stderr)
				}
			})
		}
		if c.flag == "halt" {
			continue // a grammar: runner.ParseHalt's tests hold its errors
		}
		t.Run(c.flag+" refuses another value", func(t *testing.T) {
			args := append(slices.Clone(command), "--"+c.flag, "bogus", "true", ":::", "a")
			_, _, err := runCmd(t, "", args...)
			want := `--` + c.flag + ` "bogus": want ` + orList(c.values)
			if err == nil || err.Error() != want {
				t.Errorf("futures %s: %v, want %q", strings.Join(args, " "), err, want)
			}
		})
	}
}

// TestEveryChoiceFlagCompletes checks that each command completes the
// values of each choice flag it has.
func TestEveryChoiceFlagCompletes(t *testing.T) {
	root := NewRootCmd(strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	for _, name := range []string{"submit", "map", "wait"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range choices {
			if cmd.Flags().Lookup(c.flag) == nil {
				if c.flag != "return-when" && c.flag != "then" {
					t.Errorf("%s has no --%s", name, c.flag)
				}
				continue
			}
			f, ok := cmd.GetFlagCompletionFunc(c.flag)
			if !ok {
				t.Errorf("%s --%s: no completion", name, c.flag)
				continue
			}
			if got, _ := f(cmd, nil, ""); !slices.Equal(got, c.values) {
				t.Errorf("%s --%s completes %q, want %q", name, c.flag, got, c.values)
			}
		}
	}
}

func TestOrList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a or b"}, {[]string{"a", "b", "c"}, "a, b or c"}} {
		if got := orList(tc.in); got != tc.want {
			t.Errorf("orList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
