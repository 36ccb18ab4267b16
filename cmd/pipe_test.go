package cmd

import (
	"testing"

	"github.com/futures-cli/futures/runner"
)

func TestPipeHoldsABoundedNumberOfBlocks(t *testing.T) {
	for _, tc := range []struct {
		workers, want int
	}{
		{1, 2},
		{8, 9},
		{runner.NoLimit, pipeNoLimit},
	} {
		if got := pipeWindow(tc.workers); got != tc.want {
			t.Errorf("pipeWindow(%d) = %d, want %d", tc.workers, got, tc.want)
		}
	}
}
