package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TextWidth is the width of the text report, in columns.
const TextWidth = 80

// maxFailuresText is how many failures the text report lists.
const maxFailuresText = 20

// Text writes a compact report of jobs for a terminal or a CI log, every
// line at most TextWidth columns: the counts and wall time, the
// utilisation of each slot, the slowest jobs, the tail and the failures
// with the last lines of their stderr.
func Text(w io.Writer, jobs []Job, opt Options) error {
	l := NewLayout(jobs, 1000)
	s := Summarize(jobs, &l, opt.Wall)
	var b strings.Builder
	line := func(format string, a ...any) {
		b.WriteString(clip(fmt.Sprintf(format, a...), TextWidth))
		b.WriteByte('\n')
	}
	// The counts in the summary line's order.
	line("%s in %s: %d succeeded, %d failed, %d cancelled, %d timed out",
		count(s.Jobs, "job"), durationText(s.Wall), s.Succeeded(), s.Failed(), s.Cancelled(), s.TimedOut())
	line("utilisation %s over %s", percent(s.Utilisation), count(len(s.Slots), "worker slot"))
	const meter = 30
	for _, u := range s.Slots {
		name := u.Worker
		if u.Host != "" {
			name = u.Host + " " + name
		}
		n := int(min(1, u.Share)*meter + 0.5)
		line("  %-24s %s%s %4s %6d %s", clip(name, 24), strings.Repeat("#", n), strings.Repeat(".", meter-n), percent(u.Share), u.Jobs, noun(u.Jobs, "job"))
	}
	if len(s.Slowest) > 0 {
		line("slowest:")
		for _, j := range s.Slowest {
			line("  %8s  #%-6d %s", durationText(j.Duration), j.Seq, oneLine(j.Command))
		}
	}
	if s.Last != nil {
		line("tail: job %d ran alone for the last %s (%s of the wall time)",
			s.Last.Seq, durationText(s.Alone), percent(share(s.Alone, s.Wall)))
	}
	if len(s.Failures) > 0 {
		line("failures:")
		for i, j := range s.Failures {
			if i == maxFailuresText {
				line("  and %d more", len(s.Failures)-i)
				break
			}
			line("  #%-6d %s after %s: %s", j.Seq, exitText(j), durationText(j.Duration), oneLine(j.Command))
			lines := strings.Split(j.Stderr, "\n")
			for _, t := range lines[max(0, len(lines)-3):] {
				if t != "" {
					line("    | %s", oneLine(t))
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// count is n and what, in the plural unless n is 1.
func count(n int, what string) string { return strconv.Itoa(n) + " " + noun(n, what) }

// noun is what, in the plural unless n is 1.
func noun(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// oneLine makes s one line of text: newlines, tabs and other control
// characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
