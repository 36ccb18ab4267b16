package shell

import (
	"strings"
	"testing"
)

func TestSystemArgLimits(t *testing.T) {
	l := SystemArgLimits()
	if l.Total < 64<<10 || l.Total > 6<<20 || l.Arg < 128<<10 {
		t.Errorf("SystemArgLimits() = %+v", l)
	}
}

// TestMeasure checks the sizes Measure counts (as the kernel does: each
// argument with its NUL and a pointer) and its messages, which give an
// argument's or a line's own length (what wc -c counts) and the most it
// may have.
func TestMeasure(t *testing.T) {
	lim := ArgLimits{Total: 300, Arg: 100}
	x := func(n int) string { return strings.Repeat("x", n) }
	sh := []string{"/bin/sh", "-c"} // 8+8 + 3+8 bytes, and 8 for the line's pointer
	tests := []struct {
		name      string
		c         Command
		size, max int
		err       string // "" if it fits
	}{
		{"an argv that fits", Command{Argv: []string{"echo", "a"}}, 5 + 8 + 2 + 8, 300, ""},
		{"an argument of the most one may have", Command{Argv: []string{"echo", x(99)}}, 13 + 100 + 8, 300, ""},
		{"an argument one byte too long", Command{Argv: []string{"echo", x(100)}}, 13 + 101 + 8, 300,
			"argument list too long: an argument of 100 bytes, over the limit of 99 for one"},
		{"the longest argument is named", Command{Argv: []string{"echo", x(150), x(120)}}, 13 + 159 + 129, 300,
			"argument list too long: an argument of 150 bytes, over the limit of 99 for one"},
		{"an argv of the most bytes", Command{Argv: []string{"echo", x(90), x(90), x(80)}}, 13 + 99 + 99 + 89, 300, ""},
		{"an argv one byte over", Command{Argv: []string{"echo", x(90), x(90), x(81)}}, 13 + 99 + 99 + 90, 300,
			"argument list too long: a command of 301 bytes, over the limit of 300"},
		{"a shell line that fits", Command{Line: "echo a | cat", Shell: true}, 13, 100, ""},
		{"a shell line of the most one argument may have", Command{Line: x(99), Shell: true}, 100, 100, ""},
		{"a shell line one byte too long", Command{Line: x(100), Shell: true}, 101, 100,
			"argument list too long: a command line of 100 bytes, over the limit of 99 for one argument (it runs as /bin/sh -c LINE)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, max, err := lim.Measure(tt.c, sh)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if size != tt.size || max != tt.max || got != tt.err {
				t.Errorf("Measure = %d, %d, %q; want %d, %d, %q", size, max, got, tt.size, tt.max, tt.err)
			}
		})
	}
	t.Run("a shell line within one argument but over what the shell leaves", func(t *testing.T) {
		small := ArgLimits{Total: 100, Arg: 100}
		// 100 - 8 (the line's pointer) - 16 (/bin/sh) - 11 (-c) = 65 bytes
		// with the NUL: a line of at most 64.
		for _, tc := range []struct {
			n   int
			err string
		}{
			{64, ""},
			{65, "argument list too long: a command line of 65 bytes, over the limit of 64"},
		} {
			_, max, err := small.Measure(Command{Line: x(tc.n), Shell: true}, sh)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if max != 65 || got != tc.err {
				t.Errorf("line of %d: Measure = _, %d, %q; want 65, %q", tc.n, max, got, tc.err)
			}
		}
	})
}
