package input

import (
	"io"
	"os"
	"testing"

	"github.com/futures-cli/futures/internal/platform"
)

// forcePortable sets platform.Portable for the test: the fallbacks macOS
// and FreeBSD take, tested on Linux.
func forcePortable(t *testing.T, on bool) {
	saved := platform.Portable
	platform.Portable = on
	t.Cleanup(func() { platform.Portable = saved })
}

func TestAFileBlockGoesIntoAPipeBySpliceOnLinuxAndByCopyOtherwise(t *testing.T) {
	data := pipeLines(50000, func(i int) int { return 20 })
	for _, tc := range []struct {
		name        string
		portable    bool
		wantSpliced bool
	}{
		{"spliced on Linux", false, true},
		{"copied when portable (macOS, FreeBSD)", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forcePortable(t, tc.portable)
			src := tempInput(t, "", data)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			type result struct {
				moved   int64
				handled bool
				err     error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				r.moved, r.handled, r.err = spliceTo(pw, src, 0, int64(len(data)))
				if r.err == nil && !r.handled {
					rr := &regionReader{f: src, off: 0, end: int64(len(data))}
					_, r.err = rr.WriteTo(pw)
				}
				pw.Close()
				done <- r
			}()
			got, err := io.ReadAll(pr)
			if err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.handled != tc.wantSpliced {
				t.Errorf("spliceTo handled the block: %v, want %v", r.handled, tc.wantSpliced)
			}
			if !tc.wantSpliced && r.moved != 0 {
				t.Errorf("spliceTo moved %d bytes with splice off", r.moved)
			}
			if string(got) != data {
				t.Fatalf("read %d bytes back, want %d", len(got), len(data))
			}
		})
	}
}
