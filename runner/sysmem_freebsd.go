package runner

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// systemMemAvailable reads the free and inactive page counts with sysctl
// (vm.stats.vm.v_free_count, v_inactive_count, hw.pagesize), in bytes.
func systemMemAvailable() (int64, error) {
	var n [3]uint64
	for i, name := range []string{"vm.stats.vm.v_free_count", "vm.stats.vm.v_inactive_count", "hw.pagesize"} {
		v, err := unix.SysctlUint32(name)
		if err != nil {
			return 0, fmt.Errorf("sysctl %s: %w", name, err)
		}
		n[i] = uint64(v)
	}
	return pagesAvailable(n[0], n[1], n[2]), nil
}
