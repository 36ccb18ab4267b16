//go:build !linux && !darwin && !freebsd

package runner

// systemLoadAvg is refused on a system futures has no reader for.
func systemLoadAvg() (float64, error) {
	return 0, unsupportedError{flag: "--load", why: "futures cannot read its load average"}
}

// systemMemAvailable is refused on a system futures has no reader for.
func systemMemAvailable() (int64, error) {
	return 0, unsupportedError{flag: "--memfree", why: "futures cannot read its available memory"}
}
