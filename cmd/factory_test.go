package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// testCPUs is the CPU count of testFactory: -j, -j N% and --load N% are
// worked out from it.
const testCPUs = 4

// testFactory is a factory over in-memory streams, with testCPUs CPUs and
// the environment env.
func testFactory(env map[string]string) (f *factory, stdout, stderr *strings.Builder) {
	stdout, stderr = new(strings.Builder), new(strings.Builder)
	return &factory{
		stdin: strings.NewReader(""), stdout: stdout, stderr: stderr,
		numCPU: func() int { return testCPUs },
		getenv: func(k string) string { return env[k] },
	}, stdout, stderr
}

// runArgs runs `futures NAME args…` through the command that newCmd
// builds (under a root as Main's) with runF, and returns the exit status
// and what went to stderr.
func runArgs[T any](t *testing.T, f *factory, newCmd func(*factory, func(*T) error) *cobra.Command, runF func(*T) error, args ...string) (status int, stderr string) {
	t.Helper()
	root := newRoot(f)
	c := newCmd(f, runF)
	root.AddCommand(c)
	before := f.stderr.(*strings.Builder).Len()
	status = runRoot(root, f.stderr, append([]string{c.Name()}, args...))
	return status, f.stderr.(*strings.Builder).String()[before:]
}

// parseArgs parses `futures NAME args…` with the command that newCmd
// builds, and returns the options its runF was given. It fails the test
// when the command does not get as far as runF.
func parseArgs[T any](t *testing.T, f *factory, newCmd func(*factory, func(*T) error) *cobra.Command, args ...string) *T {
	t.Helper()
	var got *T
	status, stderr := runArgs(t, f, newCmd, func(o *T) error { got = o; return nil }, args...)
	if status != 0 || got == nil {
		t.Fatalf("%q: exit status %d, runF called: %v; stderr:\n%s", args, status, got != nil, stderr)
	}
	return got
}

// usageMessage is what Main writes for a usage error of command name.
func usageMessage(name, msg string) string {
	return "futures: " + msg + "\nRun 'futures " + name + " --help' for usage.\n"
}
