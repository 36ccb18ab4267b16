//go:build !linux && !darwin && !freebsd

package shell

// systemArgRoom returns 64 KiB for the room and for one argument: a size
// every POSIX system allows, on a system futures does not know.
func systemArgRoom() (room, arg int) { return 64 << 10, 64 << 10 }
