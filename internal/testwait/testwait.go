// Package testwait waits, in tests, for a condition that no event
// announces (how many goroutines a process has, say): it looks again at
// every tick until the condition holds or a hang detector runs out.
// Where an event exists (a channel, a file descriptor, a line on a pipe),
// a test waits on it instead.
package testwait

import (
	"testing"
	"time"
)

// Tick is how often Until looks.
const Tick = 5 * time.Millisecond

// Until returns once cond holds, looking at once and then every Tick; it
// fails t with what and the last detail (cond's second result) after d.
func Until(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(Tick)
	defer tick.Stop()
	for {
		ok, detail := cond()
		if ok {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("still waiting after %v for %s: %s", d, what, detail)
		case <-tick.C:
		}
	}
}
