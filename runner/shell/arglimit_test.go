package shell

import "testing"

func TestSystemArgLimits(t *testing.T) {
	l := SystemArgLimits()
	if l.Total < 64<<10 || l.Total > 6<<20 || l.Arg < 128<<10 {
		t.Errorf("SystemArgLimits() = %+v", l)
	}
}
