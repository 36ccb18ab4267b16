package wire

import (
	"os"
	"strings"
)

// bootID reads Linux's boot id, a random UUID made at each boot.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
