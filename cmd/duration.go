package cmd

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// durationValue is the pflag.Value of every duration flag: a Go duration
// (1m30s, 500ms) or a bare number of seconds (10, 0.5), as GNU parallel
// takes them; never negative. A bad value is a usage error naming the flag
// and the value, in the same words for every flag.
type durationValue struct {
	name string
	d    *time.Duration
}

// durationVar defines the duration flag --name on fs, stored in p.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(&durationValue{name: name, d: p}, name, usage)
}

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return usagef("--%s %q: %w", v.name, s, err)
	}
	*v.d = d
	return nil
}

func (v *durationValue) Type() string { return "duration" }

// String is the value as a Go duration; "0" for none, which the help
// does not show as a default.
func (v *durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return "0"
	}
	return v.d.String()
}

// bareSeconds is a number of seconds without a unit: digits with an
// optional decimal point (no exponent, no hexadecimal, no infinity).
// Compiled at its first use, not at start-up.
var bareSeconds = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)
})

var (
	errDurationSyntax   = errors.New("want a duration like 10, 0.5, 1m30s")
	errDurationNegative = errors.New("want a duration of 0 or more, like 10, 0.5, 1m30s")
)

// parseDuration parses the value of a duration flag: a Go duration or a
// bare number of seconds, 0 or more.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if !bareSeconds().MatchString(s) {
			return 0, errDurationSyntax
		}
		secs, err := strconv.ParseFloat(s, 64)
		ns := math.Round(secs * float64(time.Second))
		if err != nil || math.Abs(ns) >= math.MaxInt64 {
			return 0, errDurationSyntax
		}
		d = time.Duration(ns)
	}
	if d < 0 {
		return 0, errDurationNegative
	}
	return d, nil
}

var _ pflag.Value = (*durationValue)(nil)
