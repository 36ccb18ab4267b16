package runner

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// loadavgStruct is a struct loadavg as sysctl vm.loadavg returns it on a
// 64-bit (long 8 bytes, after padding) or 32-bit system.
func loadavgStruct(avg1, scale int64, long64 bool) []byte {
	b := make([]byte, 16)
	if long64 {
		b = make([]byte, 24)
		binary.NativeEndian.PutUint64(b[16:], uint64(scale))
	} else {
		binary.NativeEndian.PutUint32(b[12:], uint32(scale))
	}
	binary.NativeEndian.PutUint32(b, uint32(avg1))
	binary.NativeEndian.PutUint32(b[4:], 7)
	binary.NativeEndian.PutUint32(b[8:], 9)
	return b
}

func TestParseLoadavg(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       []byte
		want    float64
		wantErr bool
	}{
		{"1.5 on a 64-bit system (FreeBSD and macOS scale by 2048)", loadavgStruct(3072, 2048, true), 1.5, false},
		{"0.25 on a 32-bit system", loadavgStruct(512, 2048, false), 0.25, false},
		{"an idle machine", loadavgStruct(0, 2048, true), 0, false},
		{"a struct of another size is an error", make([]byte, 20), 0, true},
		{"a scale of 0 is an error", loadavgStruct(3072, 0, true), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLoadavg(tc.b)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseLoadavg = %v, %v; want %v (error: %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPagesAvailable(t *testing.T) {
	if got := pagesAvailable(1000, 24, 4096); got != 1024*4096 {
		t.Errorf("pagesAvailable(1000, 24, 4096) = %d, want %d", got, 1024*4096)
	}
}

// TestAFlagTheSystemCannotServeIsRefusedNamingTheSystem: on macOS there is
// no reading for --memfree; the flag is refused (a usage error before any
// job runs), and the message names the system.
func TestAFlagTheSystemCannotServeIsRefusedNamingTheSystem(t *testing.T) {
	saved := memAvailableReader
	memAvailableReader = func() (int64, error) {
		return 0, unsupportedError{flag: "--memfree", why: "it has no sysctl for available memory"}
	}
	t.Cleanup(func() { memAvailableReader = saved })
	th, err := newThrottle(Options{MemFree: 1 << 20})
	if th != nil {
		th.close()
	}
	want := "--memfree is not supported on " + runtime.GOOS + " (it has no sysctl for available memory)"
	if err == nil || err.Error() != want || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("newThrottle: %v, want %q matching errors.ErrUnsupported", err, want)
	}
	// --load still works.
	th, err = newThrottle(Options{Load: 1e6})
	if err != nil {
		t.Fatalf("--load alone: %v", err)
	}
	th.close()
}
