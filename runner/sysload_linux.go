package runner

// systemLoadAvg reads the 1-minute load average from /proc/loadavg.
func systemLoadAvg() (float64, error) { return readLoad("/proc") }

// systemMemAvailable reads MemAvailable from /proc/meminfo, in bytes.
func systemMemAvailable() (int64, error) { return readMemAvailable("/proc") }
