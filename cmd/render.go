package cmd

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/futures-cli/futures/runner"
)

// progress draws the progress bar on stderr: done/total (total known once
// the input ends), failures so far, rate and ETA. On a terminal it is a
// github.com/schollz/progressbar/v3 bar redrawn in place, left at its
// final state when the run ends; elsewhere (--progress always in a CI log)
// a plain status line every plainInterval while the counts change, every
// plainQuiet while they do not (a log never stays silent for long), and
// one at the end. It counts
// nothing itself: it shows the runner's counts (runner.Counts), those the
// summary ends with.
//
// It is the run's runner.WriteHook too: the runner's writes to the
// terminal the bar is on (stderr, and stdout when it is the same
// terminal) come between BeforeWrite, which clears the bar, and
// AfterWrite; the bar is drawn again only once the output has ended a
// line, so that no output line is torn by it.
type progress struct {
	plain io.Writer     // not a terminal: plain lines here
	every time.Duration // plain: a line this often while the counts change
	quiet time.Duration // plain: and this often while they do not
	wrote bool          // plain: a line has been written
	mu    sync.Mutex    // guards the fields below, the bar and writes to the terminal; held from BeforeWrite to AfterWrite
	start time.Time
	last  time.Time     // when the last status line or bar was written
	c     runner.Counts // the runner's counts, as of the last record emitted
	total int           // -1 until the input ends

	term      *os.File                 // terminal mode: stderr, where the bar is drawn
	out       io.Writer                // where the bar writes: term (a test's buffer in tests)
	bar       *progressbar.ProgressBar // writes to out, only when draw calls it
	max       int                      // the total the bar was given, -1 while unknown
	desc      string                   // the description the bar was given
	visible   bool                     // the current line holds the bar
	lineStart bool                     // the cursor is at the start of a line: the bar may be drawn there
	changed   bool                     // the counts or the total changed since the bar was drawn
	shares    sync.Map                 // *os.File → bool: whether it writes to the bar's terminal
	stop      chan struct{}
	redraws   sync.WaitGroup // the redrawing goroutine (plain: the one that writes the lines)
}

// redrawEvery is how often the bar is drawn at most, and how soon it
// comes back after output cleared it.
const redrawEvery = 100 * time.Millisecond

// barCells is how wide the bar is once the total is known.
const barCells = 30

// plainInterval is how often a plain status line is written while jobs
// end, and plainQuiet how often while none does.
const (
	plainInterval = 2 * time.Second
	plainQuiet    = 30 * time.Second
)

// newProgress returns the progress observer that mode asks for, or nil.
func newProgress(mode string, stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	if mode == "never" || (mode == "auto" && !tty) {
		return nil
	}
	if !tty {
		return newPlainProgress(stderr, plainInterval, plainQuiet)
	}
	return newTerminalProgress(f, f)
}

// newPlainProgress returns the status lines written to w, a line every
// every while the counts change and every quiet while they do not, and
// starts the goroutine that writes them; finish stops it.
func newPlainProgress(w io.Writer, every, quiet time.Duration) *progress {
	p := plainProgress(w, every, quiet)
	p.redraws.Go(p.lines)
	return p
}

// plainProgress is newPlainProgress with its goroutine not started.
func plainProgress(w io.Writer, every, quiet time.Duration) *progress {
	now := time.Now()
	return &progress{plain: w, every: every, quiet: quiet, start: now, last: now, total: -1,
		lineStart: true, changed: true, stop: make(chan struct{})}
}

// lines writes a plain status line every p.every when the counts changed
// since the last one (the first one: after p.every), or when p.quiet has
// passed since it, and the output has ended its line.
func (p *progress) lines() {
	p.tick(p.every, func(now time.Time) {
		if p.lineStart && (p.changed || now.Sub(p.last) >= p.quiet) {
			p.line(now)
		}
	})
}

// tick calls fn, with p.mu held, every d until finish stops it.
func (p *progress) tick(d time.Duration, fn func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		fn(time.Now())
		p.mu.Unlock()
	}
}

// newTerminalProgress returns the progress bar drawn on out, the terminal
// f (nil in tests), and starts its redrawing goroutine; finish stops it.
func newTerminalProgress(f *os.File, out io.Writer) *progress {
	p := &progress{term: f, out: out, total: -1, max: -1, desc: "jobs",
		lineStart: true, changed: true, stop: make(chan struct{})}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(out),
		// No goroutine of its own: it draws only when draw calls it, with
		// p.mu held and the cursor at the start of a line.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSetDescription(p.desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("jobs"),
		progressbar.OptionSetPredictTime(true),
		// While the total is unknown the library counts modulo the bar's
		// width (40), and keeps that count when the total becomes known (5 of
		// 50 jobs done at 45): a width it never reaches keeps the count
		// whole until then; draw sets the bar's width with the total.
		progressbar.OptionSetWidth(math.MaxInt32),
		// No OptionThrottle: draw paces the bar, so no update is dropped.
		// No OptionClearOnFinish: the final state stays on the terminal.
	)
	p.bar.StartWithoutRender() // its rate and elapsed time count from the start of the run
	p.redraws.Go(p.redraw)
	return p
}

// redraw draws the bar every redrawEvery when the counts changed, or when
// output has cleared it.
func (p *progress) redraw() {
	p.tick(redrawEvery, func(now time.Time) {
		if p.changed || !p.visible {
			p.draw(now)
		}
	})
}

// draw gives the bar the runner's counts and the total, and draws it over
// the current line, if the cursor is at the start of one; p.mu is held.
// The bar writes only here.
func (p *progress) draw(now time.Time) {
	if !p.lineStart {
		return
	}
	if p.total == 0 {
		// No job: no bar (the library has no 0 of 0), as no summary.
		if p.visible {
			_, _ = io.WriteString(p.out, "\r\x1b[K")
			p.visible = false
		}
		return
	}
	switch {
	case p.bar.IsFinished():
		// At its final state (every job counted): drawn again as it was
		// if output cleared it.
		if !p.visible {
			_, _ = io.WriteString(p.out, p.bar.String())
		}
	case p.changed:
		if p.total > 0 && p.max != p.total {
			// The bar's cells, fewer if the terminal is narrower (the
			// library fits the line to it).
			progressbar.OptionSetWidth(barCells)(p.bar)
			p.bar.ChangeMax(p.total)
			p.max = p.total
		}
		// The count first, then the failures: a bar never shows more
		// failures than jobs done. Reaching the total draws the final
		// state; Describe draws it again with the final failures.
		_ = p.bar.Set(p.c.Done())
		if d := barDescription(p.c); d != p.desc {
			p.bar.Describe(d)
			p.desc = d
		}
	default:
		_ = p.bar.RenderBlank()
	}
	p.visible, p.changed, p.last = true, false, now
}

// barDescription is the bar's description: "jobs", and the failed, timed
// out and cancelled jobs among those done, when there are any.
func barDescription(c runner.Counts) string {
	var parts []string
	for _, n := range []struct {
		n    int
		what string
	}{{c.Failed, "failed"}, {c.TimedOut, "timed out"}, {c.Cancelled, "cancelled"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.what))
		}
	}
	if len(parts) == 0 {
		return "jobs"
	}
	return "jobs (" + strings.Join(parts, ", ") + ")"
}

// rateETA returns the jobs done per second so far and the time left at
// that rate ("?" when it cannot be told).
func rateETA(done, total int, elapsed time.Duration) (float64, string) {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	switch {
	case total < 0:
		return rate, "?"
	case done >= total:
		return rate, "0s"
	case rate == 0:
		return rate, "?"
	}
	return rate, (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
}

// sharesTerminal reports whether writes to w reach the line the bar or
// the status lines are on.
func (p *progress) sharesTerminal(w io.Writer) bool {
	if p.plain != nil {
		return w == p.plain
	}
	if w == p.out {
		return true
	}
	f, ok := w.(*os.File)
	if !ok || p.term == nil {
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
		_, _ = io.WriteString(p.out, "\r\x1b[K")
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = n
	p.changed = true
}

// Finished implements runner.Observer: c is what the bar shows.
func (p *progress) Finished(_ *runner.Result, c runner.Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c = c
	p.changed = true
	if p.plain != nil {
		return // lines writes it
	}
	now := time.Now()
	if now.Sub(p.last) >= redrawEvery {
		p.draw(now)
	}
}

// line writes a plain status line: done/total, failed (and timed out,
// cancelled when any), rate, ETA; p.mu is held.
func (p *progress) line(now time.Time) {
	p.last, p.changed, p.wrote = now, false, true
	done := p.c.Done()
	rate, eta := rateETA(done, p.total, now.Sub(p.start))
	total := "?"
	if p.total >= 0 {
		total = strconv.Itoa(p.total)
	}
	more := ""
	if p.c.TimedOut > 0 {
		more += fmt.Sprintf(", %d timed out", p.c.TimedOut)
	}
	if p.c.Cancelled > 0 {
		more += fmt.Sprintf(", %d cancelled", p.c.Cancelled)
	}
	fmt.Fprintf(p.plain, "futures: %d/%s done, %d failed%s, %.1f jobs/s, ETA %s\n", done, total, p.c.Failed, more, rate, eta)
}

// finish ends the bar before the summary is written: on a terminal it is
// drawn a last time, with the final counts, and left there; elsewhere a
// last status line is written, unless the last one written says the same.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.redraws.Wait()
	if p.plain != nil {
		p.mu.Lock()
		if p.changed || !p.wrote {
			p.line(time.Now())
		}
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed || !p.visible {
		p.draw(time.Now())
	}
	if p.visible {
		_, _ = io.WriteString(p.out, "\n")
		p.visible = false
	}
}
