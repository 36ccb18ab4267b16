package cmd

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestTheSmallCommandsTakeTheirArguments: version and worker take none,
// guard takes the run's id.
func TestTheSmallCommandsTakeTheirArguments(t *testing.T) {
	f, stdout, _ := testFactory(nil)
	if o := parseArgs(t, f, newCmdVersion); o.f != f {
		t.Error("version: runF not given the factory")
	}
	if o := parseArgs(t, f, newCmdWorker); o.f != f {
		t.Error("worker: runF not given the factory")
	}
	if o := parseArgs(t, f, newCmdGuard, "1234-ab"); o.id != "1234-ab" {
		t.Errorf("guard: id %q, want 1234-ab", o.id)
	}
	for _, tc := range []struct {
		name   string
		run    func() (int, string)
		stderr string
	}{
		{"version x", func() (int, string) { return runNone(t, f, newCmdVersion, "x") }, usageMessage("version", `unknown command "x" for "futures version"`)},
		{"worker x", func() (int, string) { return runNone(t, f, newCmdWorker, "x") }, usageMessage("worker", `unknown command "x" for "futures worker"`)},
		{"guard", func() (int, string) { return runNone(t, f, newCmdGuard) }, usageMessage("guard", `accepts 1 arg(s), received 0`)},
		{"guard a b", func() (int, string) { return runNone(t, f, newCmdGuard, "a", "b") }, usageMessage("guard", `accepts 1 arg(s), received 2`)},
	} {
		if status, stderr := tc.run(); status != 2 || stderr != tc.stderr {
			t.Errorf("%s: exit status %d, stderr %q; want 2, %q", tc.name, status, stderr, tc.stderr)
		}
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout %q", stdout)
	}
	// The real runF of version writes to the factory's stdout.
	root := newRoot(f)
	root.AddCommand(newCmdVersion(f, nil))
	if status := runRoot(root, f.stderr, []string{"version"}); status != 0 || stdout.String() != "futures "+Version()+"\n" {
		t.Errorf("version: exit status %d, stdout %q", status, stdout)
	}
}

// runNone runs a command whose runF fails the test if it is called.
func runNone[T any](t *testing.T, f *factory, newCmd func(*factory, func(*T) error) *cobra.Command, args ...string) (int, string) {
	t.Helper()
	return runArgs(t, f, newCmd, func(*T) error { t.Errorf("%q: runF called", args); return nil }, args...)
}

// TestARunBuildsOnlyTheCommandItRuns: the table of subcommands names each
// command as it is built (else `futures NAME` would be an unknown command),
// a run of one builds that one alone, and help, completion, flags and
// unknown words get the whole tree.
func TestARunBuildsOnlyTheCommandItRuns(t *testing.T) {
	f := newFactory(strings.NewReader(""), io.Discard, io.Discard)
	whole := buildRoot(f, "")
	if len(whole.Commands()) != len(subcommands) {
		t.Fatalf("the whole tree has %d commands, the table %d", len(whole.Commands()), len(subcommands))
	}
	for _, s := range subcommands {
		if got := s.build(f).Name(); got != s.name {
			t.Errorf("the table's %q builds the command %q", s.name, got)
		}
		if runs([]string{s.name, "x"}) != s.name {
			t.Errorf("runs(%s x) = %q", s.name, runs([]string{s.name, "x"}))
		}
		if cmds := buildRoot(f, s.name).Commands(); len(cmds) != 1 || cmds[0].Name() != s.name {
			t.Errorf("a run of %s builds %d commands", s.name, len(cmds))
		}
	}
	for _, args := range [][]string{nil, {"help", "map"}, {"completion", "bash"}, {"__complete", "ma"}, {"--version"}, {"-h"}, {"mapp"}} {
		if got := runs(args); got != "" {
			t.Errorf("runs(%q) = %q, want the whole tree", args, got)
		}
	}
}
