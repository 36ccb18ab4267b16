//go:build !linux && !darwin && !freebsd

package wire

// bootID is "": no boot id futures can read on this system (a worker
// here is then never taken to share the runner's files).
func bootID() string { return "" }
