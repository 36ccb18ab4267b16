package output

import (
	"io"
	"testing"
)

// pairHook counts the writes it was told of, before and after.
type pairHook struct{ before, after int }

func (h *pairHook) BeforeWrite(io.Writer)            { h.before++ }
func (h *pairHook) AfterWrite(_ io.Writer, _ []byte) { h.after++ }

// panicky panics at each write.
type panicky struct{}

func (panicky) Write([]byte) (int, error) { panic("the writer broke") }

func TestAHookIsToldAfterAWriteThatPanics(t *testing.T) {
	// A hook may hold a lock from BeforeWrite to AfterWrite (the progress
	// bar does): a write that panics, and that a caller recovers from
	// (runner/proc turns it into a write error), left it held, and the
	// next write waited for ever.
	h := &pairHook{}
	w := WithHook(panicky{}, h)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the write's panic did not reach its caller")
			}
		}()
		_, _ = w.Write([]byte("x"))
	}()
	if h.before != 1 || h.after != 1 {
		t.Fatalf("BeforeWrite %d times, AfterWrite %d times; want once each", h.before, h.after)
	}
}
