package output

import "io"

// WriteHook is told around each write the runner makes to its Stdout and
// Stderr (job output in the group and line modes, JSON records, its own
// messages): BeforeWrite(w), the write, then AfterWrite(w, p) with the
// bytes written, from the goroutine that writes. Writes to one stream come
// one at a time; writes to stdout and stderr may come at the same time,
// from different goroutines. w is Options.Stdout or Options.Stderr. A
// progress bar implements it to clear itself before output reaches the
// terminal it is drawn on and to redraw itself after, so that no output
// line is torn. With --output ungroup the jobs write to the run's stdout
// and stderr themselves, and the hook is not told.
type WriteHook interface {
	BeforeWrite(w io.Writer)
	AfterWrite(w io.Writer, p []byte)
}

// hookedWriter is w with its writes reported to a WriteHook.
type hookedWriter struct {
	w io.Writer
	h WriteHook
}

func (hw hookedWriter) Write(p []byte) (n int, err error) {
	if len(p) == 0 { // nothing reaches the terminal: the bar may stay
		return hw.w.Write(p)
	}
	hw.h.BeforeWrite(hw.w)
	// Told even if the write panics: the hook may hold a lock until then.
	defer func() { hw.h.AfterWrite(hw.w, p[:min(max(n, 0), len(p))]) }()
	return hw.w.Write(p)
}

// WithHook returns w with its writes reported to h, or w when h is nil.
func WithHook(w io.Writer, h WriteHook) io.Writer {
	if h == nil {
		return w
	}
	return hookedWriter{w: w, h: h}
}
