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

func TestPipeHoldsABoundedNumberOfBlocks(t *testing.T) {
	for _, tc := range []struct {
		workers, want int
	}{
		{1, 2},
		{8, 9},
		{NoLimit, pipeNoLimit},
	} {
		if got := PipeWindow(tc.workers); got != tc.want {
			t.Errorf("PipeWindow(%d) = %d, want %d", tc.workers, got, tc.want)
		}
	}
}
