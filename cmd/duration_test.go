package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Duration
		err      string // a part of the error; "" for none
	}{
		{"a bare integer is seconds", "10", 10 * time.Second, ""},
		{"a bare decimal is seconds", "0.5", 500 * time.Millisecond, ""},
		{"a decimal may start with its point", ".25", 250 * time.Millisecond, ""},
		{"a decimal may end with its point", "3.", 3 * time.Second, ""},
		{"zero is no limit", "0", 0, ""},
		{"a tenth of a second rounds to the nanosecond", "0.1", 100 * time.Millisecond, ""},
		{"a Go duration", "1m30s", 90 * time.Second, ""},
		{"a Go duration in milliseconds", "500ms", 500 * time.Millisecond, ""},
		{"a Go duration with a fraction", "1.5h", 90 * time.Minute, ""},
		{"an unknown unit is refused", "5x", 0, "want a duration like 10, 0.5, 1m30s"},
		{"a word is refused", "soon", 0, "want a duration like 10, 0.5, 1m30s"},
		{"empty is refused", "", 0, "want a duration like 10, 0.5, 1m30s"},
		{"an exponent is refused", "1e3", 0, "want a duration like 10, 0.5, 1m30s"},
		{"infinity is refused", "inf", 0, "want a duration like 10, 0.5, 1m30s"},
		{"not a number is refused", "NaN", 0, "want a duration like 10, 0.5, 1m30s"},
		{"hexadecimal is refused", "0x10", 0, "want a duration like 10, 0.5, 1m30s"},
		{"spaces are refused", " 10", 0, "want a duration like 10, 0.5, 1m30s"},
		{"a negative number is refused", "-1", 0, "0 or more"},
		{"a negative Go duration is refused", "-1s", 0, "0 or more"},
		{"more seconds than a duration holds are refused", "9999999999", 0, "want a duration like 10, 0.5, 1m30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("parseDuration(%q): %v", tc.in, err)
			case tc.err != "" && err == nil:
				t.Fatalf("parseDuration(%q) = %v, want an error", tc.in, got)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("parseDuration(%q): %q, want it to say %q", tc.in, err, tc.err)
			case got != tc.want:
				t.Fatalf("parseDuration(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestDurationFlagsShareOneErrorStyle checks that every duration flag of
// every command takes bare seconds and says the same thing of a bad value,
// naming the flag and the value.
func TestDurationFlagsShareOneErrorStyle(t *testing.T) {
	root := NewRootCmd(strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	n := 0
	for _, c := range root.Commands() {
		fs := c.Flags()
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() != "duration" {
				return
			}
			n++
			if err := fs.Set(f.Name, "2.5"); err != nil {
				t.Errorf("%s --%s 2.5: %v", c.Name(), f.Name, err)
			} else if f.Value.String() != "2.5s" {
				t.Errorf("%s --%s 2.5 is %s, want 2.5s", c.Name(), f.Name, f.Value)
			}
			err := fs.Set(f.Name, "5x")
			want := `--` + f.Name + ` "5x": want a duration like 10, 0.5, 1m30s`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s --%s 5x: %v, want %q", c.Name(), f.Name, err, want)
			}
		})
	}
	if n < 12 {
		t.Errorf("%d duration flags, want --job-timeout, --timeout, --grace and --delay of submit, map and wait", n)
	}
}
