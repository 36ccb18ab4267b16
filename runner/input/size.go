package input

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a size in bytes as GNU parallel writes them (--block,
// --memfree): a number, maybe with a fraction, and an optional unit. K, M,
// G, T and P (and Ki, Mi… in either case) are powers of 1024; k, m, g, t
// and p are powers of 1000. A trailing B is allowed: 1M, 1MiB, 1MB and
// 1048576 are the same size; 1m is 1000000.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "B")
	unit := 1.0
	if n := len(t); n > 0 {
		binary := false
		if n > 1 && (t[n-1] == 'i' || t[n-1] == 'I') && strings.IndexByte("kKmMgGtTpP", t[n-2]) >= 0 {
			binary = true
			t = t[:n-1]
			n--
		}
		if k := strings.IndexByte("kmgtp", t[n-1]|0x20); k >= 0 {
			base := 1000.0
			if binary || t[n-1] < 'a' {
				base = 1024
			}
			unit = math.Pow(base, float64(k+1))
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*unit >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (like 1M, 512k, 2G or 1048576)", s)
	}
	return int64(f * unit), nil
}
