package input

import (
	"fmt"
	"testing"
)

func TestUnescape(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"plain text is itself", "a;b", "a;b", ""},
		{"the empty string is empty", "", "", ""},
		{"each escape is its byte", `\n\t\r\0\\`, "\n\t\r\x00\\", ""},
		{"a hex escape is its byte, in either case", `;\x0a\xFF`, ";\n\xff", ""},
		{"a lone backslash at the end is refused", `a\`, "", `a lone \ at the end`},
		{"a short hex escape is refused", `\x1`, "", `\x needs two hex digits`},
		{"a bad hex escape is refused", `\xzz`, "", `\xzz is not a hex byte`},
		{"a signed hex escape is refused", `\x+f`, "", `\x+f is not a hex byte`},
		{"an unknown escape is refused", `\q`, "", `\q is not an escape (\n, \t, \r, \0, \\, \xHH)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unescape(tc.in)
			if got != tc.want || errString(err) != tc.err {
				t.Errorf("Unescape(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseDelimiter(t *testing.T) {
	tests := []struct {
		name, in string
		want     byte
		bad      bool
	}{
		{"one byte is itself", ",", ',', false},
		{"a lone backslash is itself", `\`, '\\', false},
		{"backslash t is a tab", `\t`, '\t', false},
		{"backslash r is a carriage return", `\r`, '\r', false},
		{"backslash zero is NUL", `\0`, 0, false},
		{"two backslashes are one", `\\`, '\\', false},
		{"a hex escape is its byte", `\x1f`, 0x1f, false},
		{"nothing is refused", "", 0, true},
		{"two bytes are refused", "ab", 0, true},
		{"two escapes are refused", `\n\n`, 0, true},
		{"an escape and a byte are refused", `\na`, 0, true},
		{"a bad hex escape is refused", `\xzz`, 0, true},
		{"an unknown escape is refused", `\q`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDelimiter(tt.in)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Fatalf("ParseDelimiter(%q) = %q, %v", tt.in, got, err)
			}
			if want := fmt.Sprintf(`-d %q: want one byte or an escape like \t, \0, \x1f`, tt.in); tt.bad && err.Error() != want {
				t.Errorf("ParseDelimiter(%q): %v", tt.in, err)
			}
		})
	}
}
