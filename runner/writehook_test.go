package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/futures-cli/futures/runner/input"
)

// recordingHook checks that BeforeWrite and AfterWrite come in pairs per
// writer, and keeps what AfterWrite saw.
type recordingHook struct {
	t    *testing.T
	mu   sync.Mutex
	open map[io.Writer]bool
	seen map[io.Writer]*bytes.Buffer
}

func (h *recordingHook) BeforeWrite(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open[w] {
		h.t.Error("BeforeWrite twice without AfterWrite")
	}
	h.open[w] = true
}

func (h *recordingHook) AfterWrite(w io.Writer, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open[w] {
		h.t.Error("AfterWrite without BeforeWrite")
	}
	h.open[w] = false
	if h.seen[w] == nil {
		h.seen[w] = &bytes.Buffer{}
	}
	h.seen[w].Write(p)
}

func TestWriteHookSeesEveryWrite(t *testing.T) {
	for _, mode := range []OutputMode{Group, Line} {
		var out, errb bytes.Buffer
		h := &recordingHook{t: t, open: map[io.Writer]bool{}, seen: map[io.Writer]*bytes.Buffer{}}
		src := input.SubmitSource(input.NewReader(strings.NewReader("echo a; echo b >&2\necho c\n"), '\n'))
		sum := Run(t.Context(), Options{Workers: 2, Output: mode, Stdout: &out, Stderr: &errb, WriteHook: h}, src)
		if sum.Succeeded != 2 {
			t.Fatalf("%s", sum)
		}
		if h.seen[&out] == nil || h.seen[&out].String() != out.String() || h.seen[&errb].String() != errb.String() {
			t.Fatalf("the hook saw %q and %q; written: %q and %q", h.seen[&out], h.seen[&errb], out.String(), errb.String())
		}
	}
}
