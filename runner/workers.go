package runner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/futures-cli/futures/runner/input"
)

// NoLimit is the Options.Workers of -j 0: no limit of our own, as GNU
// parallel's -j 0 and xargs -P 0. As many jobs run at once as the run's
// window holds (jobs submitted and not yet emitted; 1024 by default) and
// the system allows: when it refuses to start one more (too many open
// files or processes), the run waits for a job to end (limit.go).
const NoLimit = input.NoLimit

// noLimitWindow is the default Window under NoLimit.
const noLimitWindow = 1024

// ParseWorkers parses a -j value: N, N% of the CPUs, "cpu" (CPUs+1), "io"
// (5×CPUs), or 0 for NoLimit; "" is cpus. The result is at least 1, or
// NoLimit.
func ParseWorkers(s string, cpus int) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return cpus, nil
	case "0":
		return NoLimit, nil
	case "cpu":
		return cpus + 1, nil
	case "io":
		return 5 * cpus, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseFloat(p, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("-j %q: want a positive percentage of the CPUs, like 50%%", s)
		}
		return max(1, int(float64(cpus)*n/100)), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("-j %q: want N, N%%, cpu, io or 0 (no limit)", s)
	}
	return n, nil
}

// ParseDelimiter parses a -d value: one byte, or an escape (\n, \t, \0,
// \\, \xHH).
func ParseDelimiter(s string) (byte, error) {
	if len(s) == 1 {
		return s[0], nil
	}
	switch s {
	case `\n`:
		return '\n', nil
	case `\t`:
		return '\t', nil
	case `\0`:
		return 0, nil
	case `\\`:
		return '\\', nil
	case `\r`:
		return '\r', nil
	}
	if h, ok := strings.CutPrefix(s, `\x`); ok && len(h) == 2 {
		if n, err := strconv.ParseUint(h, 16, 8); err == nil {
			return byte(n), nil
		}
	}
	return 0, fmt.Errorf("-d %q: want one byte or an escape like \\t, \\0, \\x1f", s)
}
