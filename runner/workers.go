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

// pipeNoLimit is how many blocks -j 0 holds at once with --pipe.
const pipeNoLimit = 64

// PipeWindow is the Window of a run over blocks of its input (--pipe,
// input.PipeSource) with the given Workers. A block is held from when it
// is read until its job ends: with one job queued behind the running
// ones, memory is about jobs × the block size. Under NoLimit that would
// be the default window of noLimitWindow blocks, a GiB at the default
// --block of 1M: a run over blocks holds at most pipeNoLimit of them (and
// so runs at most that many jobs) instead.
func PipeWindow(workers int) int {
	if workers == NoLimit {
		return pipeNoLimit
	}
	return workers + 1
}

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
