package input

import (
	"slices"
	"strings"
	"testing"

	"github.com/futures-cli/futures/runner/shell"
)

// TestSubmitSourceBadLines checks that a command line that cannot be run
// (it does not parse, or it is over the argument limits, which the kernel
// would refuse) fails its own job with a message naming its line, and the
// others are made as they are.
func TestSubmitSourceBadLines(t *testing.T) {
	lim := shell.ArgLimits{Total: 300, Arg: 150}
	long := strings.Repeat("L", 400)
	tests := []struct {
		name  string
		input string
		o     SubmitOptions
		want  []string // each job: its command line, or "error: …"
	}{
		{"lines that fit", "echo a\n\necho b | cat\n", SubmitOptions{Limits: lim},
			[]string{"echo a", "echo b | cat"}},
		{"an argument too long fails alone", "echo a\necho " + long + "\necho c\n", SubmitOptions{Limits: lim},
			[]string{"echo a", "error: stdin:2: argument list too long: an argument of 400 bytes, over the limit of 149 for one", "echo c"}},
		{"an argument of the most one may have", "echo " + strings.Repeat("L", 149) + "\n", SubmitOptions{Limits: lim},
			[]string{"echo " + strings.Repeat("L", 149)}},
		{"the argument is the word, unquoted", "echo 'x" + strings.Repeat("L", 148) + "y'\n", SubmitOptions{Limits: lim},
			[]string{"error: stdin:1: argument list too long: an argument of 150 bytes, over the limit of 149 for one"}},
		{"too many bytes in all fails alone", "echo a\necho " + strings.Repeat("M ", 29) + "\necho c\n", SubmitOptions{Limits: lim},
			[]string{"echo a", "error: stdin:2: argument list too long: a command of 303 bytes, over the limit of 300", "echo c"}},
		{"a shell line too long fails alone", "echo a | cat\necho " + long + " | cat\necho c | cat\n", SubmitOptions{Limits: lim},
			[]string{"echo a | cat", "error: stdin:2: argument list too long: a command line of 411 bytes, over the limit of 149 for one argument (it runs as /bin/sh -c LINE)", "echo c | cat"}},
		{"the shell is the one given", "echo " + long + " | cat\n", SubmitOptions{Limits: lim, Shell: []string{"bash", "-c"}},
			[]string{"error: stdin:1: argument list too long: a command line of 411 bytes, over the limit of 149 for one argument (it runs as bash -c LINE)"}},
		{"a line that does not parse fails alone", "echo a\necho 'b\necho c\n", SubmitOptions{Limits: lim},
			[]string{"echo a", "error: stdin:2: syntax error: unterminated single quote at byte offset 5", "echo c"}},
		{"the system's limits by default", "echo a\necho " + strings.Repeat("L", 200000) + "\n", SubmitOptions{},
			[]string{"echo a", "error: stdin:2: argument list too long: an argument of 200000 bytes, over the limit of 131071 for one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewInputsReader([]Input{{Name: "stdin", R: strings.NewReader(tt.input)}}, '\n')
			got := jobLines(jobs(t, SubmitSource(r, tt.o)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("jobs:\n%.300q\nwant\n%.300q", got, tt.want)
			}
		})
	}
}
