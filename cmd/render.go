package cmd

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/futures-cli/futures/runner"
)

// progress draws the progress bar on stderr: done/total (total known once
// the input ends), failures so far, rate and ETA.
type progress struct {
	bar    *progressbar.ProgressBar
	failed int
}

// newProgress returns the progress observer that mode asks for, or nil.
func newProgress(mode string, stderr io.Writer) *progress {
	on := mode == "always"
	if mode == "auto" {
		f, ok := stderr.(*os.File)
		on = ok && term.IsTerminal(int(f.Fd()))
	}
	if !on {
		return nil
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
func (p *progress) Total(n int) { p.bar.ChangeMax(n) }

// Finished implements runner.Observer.
func (p *progress) Finished(r *runner.Result) {
	if !r.Succeeded() {
		p.failed++
		p.bar.Describe(fmt.Sprintf("jobs (%d failed)", p.failed))
	}
	_ = p.bar.Add(1)
}

// finish clears the bar before the summary is written.
func (p *progress) finish() {
	if p != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}
