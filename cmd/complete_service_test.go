package cmd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner/service/store"
)

// seedStore adds a future per line to service name's store under
// $XDG_STATE_HOME (set by the caller).
func seedStore(t *testing.T, name string, lines ...string) {
	t.Helper()
	st, err := store.Open(filepath.Join(os.Getenv("XDG_STATE_HOME"), "futures", name))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var specs []store.Spec
	for _, l := range lines {
		specs = append(specs, store.Spec{Client: "test", Line: l})
	}
	if _, err := st.Submit(context.Background(), specs); err != nil {
		t.Fatal(err)
	}
}

func TestCompleteIDs(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("FUTURES_SERVICE", "")
	seedStore(t, "default", "echo 1", "echo 2", "echo 3")
	seedStore(t, "other", "echo x")
	for _, tc := range []struct {
		name, service string
		env           string
		want          []string
	}{
		{"the default service's ids, in order", "", "", []string{"%1", "%2", "%3"}},
		{"a named service's", "other", "", []string{"%1"}},
		{"FUTURES_SERVICE names the service", "", "other", []string{"%1"}},
		{"a service that never ran has none", "never", "", nil},
		{"a bad name has none", "a/b", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FUTURES_SERVICE", tc.env)
			if got := completeIDs(tc.service); !slices.Equal(got, tc.want) {
				t.Errorf("completeIDs(%q) = %q, want %q", tc.service, got, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(state, "futures", "never")); !os.IsNotExist(err) {
		t.Errorf("completing a service that never ran made its directory: %v", err)
	}
}

// TestCompleteIDArgs registers completeIDArgs on a command that takes ids,
// as the id-taking commands do, and asks cobra's __complete for them.
func TestCompleteIDArgs(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("FUTURES_SERVICE", "")
	seedStore(t, "default", "echo 1", "echo 2")
	lines := make([]string, 12)
	seedStore(t, "big", lines...)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"result", ""}, "%1\n%2\n:4\n"},
		{[]string{"result", "%1", ""}, "%2\n:4\n"},
		{[]string{"result", "--service", "big", "%1"}, "%1\n%10\n%11\n%12\n:4\n"},
		{[]string{"result", "--service", "none", ""}, ":4\n"},
	} {
		var name string
		var stdout strings.Builder
		root := &cobra.Command{Use: "futures"}
		c := &cobra.Command{Use: "result ID...", RunE: func(*cobra.Command, []string) error { return nil }, ValidArgsFunction: completeIDArgs}
		serviceFlag(c, &name)
		root.AddCommand(c)
		root.SetOut(&stdout)
		root.SetErr(&strings.Builder{})
		root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, tc.args...))
		if err := root.Execute(); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if stdout.String() != tc.want {
			t.Errorf("__complete %q: %q, want %q", tc.args, stdout.String(), tc.want)
		}
	}
}
