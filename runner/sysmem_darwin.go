package runner

// systemMemAvailable is refused on macOS: its count of reclaimable memory
// is the Mach host statistics (vm_stat), not a sysctl; --memfree is
// refused rather than judged on free pages alone, which macOS keeps low
// on purpose.
func systemMemAvailable() (int64, error) {
	return 0, unsupportedError{flag: "--memfree", why: "it has no sysctl for available memory"}
}
