package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options say what a report shows besides its records.
type Options struct {
	// Title names the run (the input's name); "" is "futures run".
	Title string
	// Wall is the run's own wall time, when the run makes the report;
	// 0 takes the span of the records.
	Wall time.Duration
	// Width is the timeline's width in pixels; 0 is 900.
	Width float64
}

//go:embed report.html.tmpl
var pageText string

// page is the parsed template, parsed at its first use rather than at
// start-up: every run of the binary would pay for it otherwise.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(pageText))
})

// Geometry of the timeline, in pixels.
const (
	labelWidth       = 170 // the row labels left of the bars
	rowHeight        = 16
	rowGap           = 3
	hostHeight       = 20 // a host's heading row
	axisHeight       = 24
	maxFailuresShown = 200 // failures listed in the page; the rest are counted
)

// view is what the page template renders.
type view struct {
	Title, Generated         string
	Jobs                     int
	Wall, Utilisation        string
	Counts                   []countView
	Killed                   int
	Width, Height, PlotWidth float64
	Label                    float64
	Hosts                    []hostView
	Rows                     []rowView
	Bars                     []barView
	Ticks                    []tickView
	Slots                    []slotView
	Slowest                  []jobView
	Tail                     string
	Failures                 []jobView
	MoreFailures             int
	NotStarted               int
	Outcomes                 []countView
}

type countView struct {
	Name, Class string
	N           int
}
type hostView struct {
	Name string
	Y    float64
}
type rowView struct {
	Name string
	Y    float64
}
type barView struct {
	X, Y, W, H float64
	Class, Tip string
	N          int
}
type tickView struct {
	X     float64
	Label string
}
type slotView struct {
	Name, Share string
	Jobs        int
	Percent     float64
}
type jobView struct {
	Seq                        int
	Command, Item, Duration    string
	Outcome, Class, Exit, Tail string
}

// HTML writes the report of jobs as one self-contained HTML page: the
// timeline as inline SVG, the summary beside it, a few lines of plain
// JavaScript for the hover; nothing is fetched from anywhere. Every
// command, item and error is escaped by html/template.
func HTML(w io.Writer, jobs []Job, opt Options) error {
	if opt.Width <= 0 {
		opt.Width = 900
	}
	l := NewLayout(jobs, opt.Width)
	s := Summarize(jobs, &l, opt.Wall)
	v := view{
		Title: opt.Title, Jobs: s.Jobs, Wall: durationText(s.Wall),
		Utilisation: percent(s.Utilisation), Killed: s.Killed(),
		PlotWidth: opt.Width, Label: labelWidth, Width: labelWidth + opt.Width + 10,
		Generated: time.Now().UTC().Format(time.RFC3339),
	}
	if v.Title == "" {
		v.Title = "futures run"
	}
	for _, c := range []struct {
		name, class string
		n           int
	}{
		{"succeeded", Succeeded.class(), s.Succeeded()},
		{"failed", Failed.class(), s.Failed()},
		{"timed out", TimedOut.class(), s.TimedOut()},
		{"cancelled", Cancelled.class(), s.Cancelled()},
	} {
		v.Counts = append(v.Counts, countView{c.name, c.class, c.n})
	}
	for o := Outcome(0); o < numOutcomes; o++ {
		v.Outcomes = append(v.Outcomes, countView{Name: o.String(), Class: o.class()})
	}

	// Rows, with a heading per host when there are several.
	hosts := map[string]bool{}
	for _, r := range l.Rows {
		hosts[r.Host] = true
	}
	y := float64(axisHeight)
	rowY := make([]float64, len(l.Rows))
	for i, r := range l.Rows {
		if len(hosts) > 1 && (i == 0 || l.Rows[i-1].Host != r.Host) {
			v.Hosts = append(v.Hosts, hostView{Name: hostName(r.Host), Y: y + hostHeight - 6})
			y += hostHeight
		}
		rowY[i] = y
		v.Rows = append(v.Rows, rowView{Name: clip(r.Worker, 24), Y: y + rowHeight - 4})
		y += rowHeight + rowGap
	}
	v.Height = y + 4
	for _, t := range l.Ticks(10) {
		v.Ticks = append(v.Ticks, tickView{X: labelWidth + t.X, Label: t.Label})
	}
	for _, b := range l.Bars {
		bv := barView{X: labelWidth + b.X, Y: rowY[b.Row], W: b.W, H: rowHeight, Class: b.Outcome.class(), N: b.N}
		if b.N == 1 {
			bv.Tip = jobTip(&jobs[b.Job], &l.Rows[b.Row])
		} else {
			bv.Tip = aggregateTip(b)
		}
		v.Bars = append(v.Bars, bv)
	}
	for _, u := range s.Slots {
		name := u.Worker
		if len(hosts) > 1 {
			name = hostName(u.Host) + " " + name
		}
		v.Slots = append(v.Slots, slotView{Name: clip(name, 40), Share: percent(u.Share), Jobs: u.Jobs, Percent: min(100, 100*u.Share)})
	}
	for _, j := range s.Slowest {
		jv := viewJob(j)
		label := j.Command // map: the item says which job it was
		if item := j.Item(); item != "" && item != j.Command {
			label = item
		}
		jv.Command = clip(oneLine(label), 60)
		v.Slowest = append(v.Slowest, jv)
	}
	if s.Last != nil {
		v.Tail = fmt.Sprintf("job %d ran alone for the last %s of the run (%s of the wall time)",
			s.Last.Seq, durationText(s.Alone), percent(share(s.Alone, s.Wall)))
	}
	for i, j := range s.Failures {
		if i == maxFailuresShown {
			v.MoreFailures = len(s.Failures) - i
			break
		}
		v.Failures = append(v.Failures, viewJob(j))
	}
	for i := range jobs {
		if !jobs[i].Started() {
			v.NotStarted++
		}
	}
	return page().Execute(w, v)
}

func viewJob(j *Job) jobView {
	return jobView{
		Seq: j.Seq, Command: clip(j.Command, 200), Item: clip(j.Item(), 200),
		Duration: durationText(j.Duration), Outcome: j.Outcome.String(), Class: j.Outcome.class(),
		Exit: exitText(j), Tail: j.Stderr,
	}
}

// exitText says how a job ended: "exit 3", "SIGKILL", "terminated: job
// timeout"….
func exitText(j *Job) string {
	switch {
	case j.Error != "":
		return j.Error
	case j.Signal != "":
		return j.Signal
	}
	return "exit " + strconv.Itoa(j.ExitCode)
}

func jobTip(j *Job, r *Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s\n", j.Seq, clip(j.Command, 300))
	if item := j.Item(); item != "" && item != j.Command {
		fmt.Fprintf(&b, "item: %s\n", clip(item, 300))
	}
	fmt.Fprintf(&b, "%s · %s · %s", j.Outcome, exitText(j), durationText(j.Duration))
	if j.MaxRSSKB > 0 {
		fmt.Fprintf(&b, " · RSS %s", sizeText(j.MaxRSSKB))
	}
	if cpu := j.User + j.Sys; cpu > 0 {
		fmt.Fprintf(&b, " · CPU %s", durationText(cpu))
	}
	fmt.Fprintf(&b, "\n%s", r.Worker)
	if r.Host != "" {
		fmt.Fprintf(&b, " on %s", r.Host)
	}
	return b.String()
}

func aggregateTip(b Bar) string {
	var parts []string
	for o := Outcome(0); o < numOutcomes; o++ {
		if n := b.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	return fmt.Sprintf("%d jobs too short to draw one by one: %s", b.N, strings.Join(parts, ", "))
}

func hostName(h string) string {
	if h == "" {
		return "local"
	}
	return h
}

func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + "%" }

func share(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// sizeText writes kilobytes as KB, MB or GB.
func sizeText(kb int64) string {
	switch {
	case kb < 1024:
		return strconv.FormatInt(kb, 10) + " KB"
	case kb < 1024*1024:
		return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(float64(kb)/1024/1024, 'f', 1, 64) + " GB"
}
