package runner

import (
	"testing"
)

func TestParseWorkers(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		bad      bool
	}{
		{"an empty value means one per CPU", "", 4, false},
		{"a number is taken as is", "7", 7, false},
		{"a percentage is of the CPUs", "50%", 2, false},
		{"a small percentage still gives one worker", "1%", 1, false},
		{"cpu is one more than the CPUs", "cpu", 5, false},
		{"io is five per CPU", "io", 20, false},
		{"zero is no limit, as in GNU parallel and xargs -P 0", "0", NoLimit, false},
		{"a word is refused", "many", 0, true},
		{"a negative number is refused", "-2", 0, true},
		{"a zero percentage is refused", "0%", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWorkers(tt.in, 4)
			if (err != nil) != tt.bad {
				t.Fatalf("ParseWorkers(%q) error = %v, want error %v", tt.in, err, tt.bad)
			}
			if !tt.bad && got != tt.want {
				t.Fatalf("ParseWorkers(%q) = %d, want %d", tt.in, got, tt.want)
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
		{"backslash t is a tab", `\t`, '\t', false},
		{"backslash zero is NUL", `\0`, 0, false},
		{"a hex escape is its byte", `\x1f`, 0x1f, false},
		{"two bytes are refused", "ab", 0, true},
		{"a bad hex escape is refused", `\xzz`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDelimiter(tt.in)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Fatalf("ParseDelimiter(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
