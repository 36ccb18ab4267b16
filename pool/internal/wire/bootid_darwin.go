package wire

import "golang.org/x/sys/unix"

// bootID reads macOS's boot session UUID, made at each boot.
func bootID() string {
	s, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil {
		return ""
	}
	return s
}
