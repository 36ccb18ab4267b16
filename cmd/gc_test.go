package cmd

import (
	"runtime/debug"
	"testing"
)

// A run collects garbage at runGCPercent unless GOGC says otherwise.
func TestARunSetsItsGCPercentUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		gogc string
		want int
	}{
		{"", runGCPercent},
		{"100", 100},
		{"off", 100},
		{"200", 100},
	} {
		debug.SetGCPercent(100)
		setRunGC(func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		})
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("GOGC=%q: the run's GC percent is %d, want %d", tc.gogc, got, tc.want)
		}
	}
}
