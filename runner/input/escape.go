package input

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Unescape turns the escapes \n, \t, \r, \0, \\ and \xHH in s into the
// bytes they stand for (--recend, -d); other bytes are themselves. A
// backslash before anything else, or at the end, is an error.
func Unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return "", errors.New(`a lone \ at the end`)
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		case 'x':
			if i+3 > len(s) {
				return "", errors.New(`\x needs two hex digits`)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf(`\x%s is not a hex byte`, s[i+1:i+3])
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf(`\%c is not an escape (\n, \t, \r, \0, \\, \xHH)`, s[i])
		}
	}
	return b.String(), nil
}

// ParseDelimiter parses a -d value: one byte, or one escape as Unescape
// reads them (\n, \t, \r, \0, \\, \xHH).
func ParseDelimiter(s string) (byte, error) {
	if len(s) == 1 {
		return s[0], nil
	}
	if d, err := Unescape(s); err == nil && len(d) == 1 {
		return d[0], nil
	}
	return 0, fmt.Errorf("-d %q: want one byte or an escape like \\t, \\0, \\x1f", s)
}
