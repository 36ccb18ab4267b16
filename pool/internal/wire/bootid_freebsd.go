package wire

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// bootID is FreeBSD's boot time to the microsecond (kern.boottime), which
// tells one boot from another as a boot id does.
func bootID() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("boottime-%d.%06d", tv.Sec, tv.Usec)
}
