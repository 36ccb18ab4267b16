//go:build darwin || freebsd

package runner

import "golang.org/x/sys/unix"

// systemLoadAvg reads the 1-minute load average with sysctl vm.loadavg.
func systemLoadAvg() (float64, error) {
	b, err := unix.SysctlRaw("vm.loadavg")
	if err != nil {
		return 0, err
	}
	return parseLoadavg(b)
}
