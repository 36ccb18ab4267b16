package cmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/futures-cli/futures/runner"
)

// progress draws the progress bar on stderr: done/total (total known once
// the input ends), failures so far, rate and ETA. On a terminal it is a bar
// redrawn in place; elsewhere (--progress always in a CI log) a plain status
// line every few seconds and one at the end.
type progress struct {
	bar    *progressbar.ProgressBar
	failed int

	plain io.Writer  // not a terminal: plain lines here
	mu    sync.Mutex // guards the fields below (plain mode)
	start time.Time
	last  time.Time
	done  int
	total int // -1 until the input ends
}

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
		return &progress{plain: stderr, start: now, last: now, total: -1}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("jobs"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("jobs"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar}
}

// Total implements runner.Observer.
func (p *progress) Total(n int) {
	if p.plain != nil {
		p.mu.Lock()
		p.total = n
		p.mu.Unlock()
		return
	}
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
		if now := time.Now(); now.Sub(p.last) >= plainInterval {
			p.last = now
			p.line(now)
		}
		return
	}
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
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}
