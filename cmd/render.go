package cmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/futures-cli/futures/runner"
)

// progress draws the progress bar on stderr: done/total (total known once
// the input ends), failures so far, rate and ETA. On a terminal it is a bar
// redrawn in place; elsewhere (--progress always in a CI log) a plain status
// line every few seconds and one at the end.
//
// It is the run's runner.WriteHook too: the runner's writes to the
// terminal the bar is on (stderr, and stdout when it is the same
// terminal) come between BeforeWrite, which clears the bar, and
// AfterWrite; the bar is drawn again only once the output has ended a
// line, so that no output line is torn by it.
type progress struct {
	bar    *progressbar.ProgressBar
	failed int

	plain io.Writer  // not a terminal: plain lines here
	mu    sync.Mutex // guards the fields below, the bar and writes to the terminal; held from BeforeWrite to AfterWrite
	start time.Time
	last  time.Time
	done  int
	total int // -1 until the input ends

	term      *os.File // terminal mode: stderr, where the bar is drawn
	visible   bool     // the current line may hold the bar
	lineStart bool     // the cursor is at the start of a line: the bar may be drawn there
	shares    sync.Map // *os.File → bool: whether it writes to the bar's terminal
	stop      chan struct{}
	redraws   sync.WaitGroup // the redrawing goroutine
}

// redrawEvery is how soon the bar comes back after output cleared it.
const redrawEvery = 100 * time.Millisecond

// plainInterval is how often a plain status line is written.
const plainInterval = 2 * time.Second

// newProgress returns the progress observer that mode asks for, or nil.
func newProgress(mode string, stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	if mode == "never" || (mode == "auto" && !tty) {
		return nil
	}
	if !tty {
		now := time.Now()
		return &progress{plain: stderr, start: now, last: now, total: -1, lineStart: true}
	}
	p := &progress{term: f, lineStart: true, stop: make(chan struct{})}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(barWriter{p}),
		progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine of its own: it draws when called
		progressbar.OptionSetDescription("jobs"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("jobs"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	p.redraws.Go(p.redraw)
	return p
}

// barWriter is where the bar library writes: the terminal, while the
// cursor is at the start of a line; else nothing (the bar waits). It is
// only written under p.mu.
type barWriter struct{ p *progress }

func (w barWriter) Write(b []byte) (int, error) {
	p := w.p
	if !p.lineStart {
		return len(b), nil
	}
	p.visible = true
	return p.term.Write(b)
}

// redraw draws the bar again, every redrawEvery, if output has cleared it.
func (p *progress) redraw() {
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if !p.visible && p.lineStart {
			if s := p.bar.String(); s != "" {
				_, _ = barWriter{p}.Write([]byte(s))
			} else {
				_ = p.bar.RenderBlank()
			}
		}
		p.mu.Unlock()
	}
}

// sharesTerminal reports whether writes to w reach the line the bar or
// the status lines are on.
func (p *progress) sharesTerminal(w io.Writer) bool {
	if p.term == nil {
		return w == p.plain
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if f == p.term {
		return true
	}
	if v, ok := p.shares.Load(f); ok {
		return v.(bool)
	}
	share := false
	if term.IsTerminal(int(f.Fd())) {
		a, aerr := f.Stat()
		b, berr := p.term.Stat()
		if aerr == nil && berr == nil {
			as, aok := a.Sys().(*syscall.Stat_t)
			bs, bok := b.Sys().(*syscall.Stat_t)
			share = aok && bok && as.Rdev == bs.Rdev
		}
	}
	p.shares.Store(f, share)
	return share
}

// BeforeWrite implements runner.WriteHook: it clears the bar from the
// terminal before output is written there, and holds it off until
// AfterWrite.
func (p *progress) BeforeWrite(w io.Writer) {
	if !p.sharesTerminal(w) {
		return
	}
	p.mu.Lock()
	if p.visible {
		_, _ = io.WriteString(p.term, "\r\x1b[K")
		p.visible = false
	}
}

// AfterWrite implements runner.WriteHook: it notes whether the output
// ended a line (the bar may then come back).
func (p *progress) AfterWrite(w io.Writer, b []byte) {
	if !p.sharesTerminal(w) {
		return
	}
	if len(b) > 0 {
		p.lineStart = b[len(b)-1] == '\n'
	}
	p.mu.Unlock()
}

// Total implements runner.Observer.
func (p *progress) Total(n int) {
	if p.plain != nil {
		p.mu.Lock()
		p.total = n
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.ChangeMax(n)
}

// Finished implements runner.Observer.
func (p *progress) Finished(r *runner.Result) {
	if p.plain != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.done++
		if !r.Succeeded() {
			p.failed++
		}
		if now := time.Now(); now.Sub(p.last) >= plainInterval && p.lineStart {
			p.last = now
			p.line(now)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !r.Succeeded() {
		p.failed++
		p.bar.Describe(fmt.Sprintf("jobs (%d failed)", p.failed))
	}
	_ = p.bar.Add(1)
}

// line writes a plain status line: done/total, failed, rate, ETA.
func (p *progress) line(now time.Time) {
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / elapsed.Seconds()
	total, eta := "?", "?"
	if p.total >= 0 {
		total = strconv.Itoa(p.total)
		if rate > 0 {
			eta = (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
		}
	}
	fmt.Fprintf(p.plain, "futures: %d/%s done, %d failed, %.1f jobs/s, ETA %s\n", p.done, total, p.failed, rate, eta)
}

// finish ends the bar before the summary is written: cleared on a
// terminal, a last status line elsewhere.
func (p *progress) finish() {
	if p == nil {
		return
	}
	if p.plain != nil {
		p.mu.Lock()
		p.line(time.Now())
		p.mu.Unlock()
		return
	}
	close(p.stop)
	p.redraws.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
	if p.visible {
		_, _ = io.WriteString(p.term, "\r\x1b[K")
		p.visible = false
	}
}
