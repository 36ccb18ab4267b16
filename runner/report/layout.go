package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Row is one worker slot of the timeline.
type Row struct {
	Host   string // "" for this machine
	Worker string // the worker's name, or "slot N" when the records name none
	Jobs   int
	Busy   time.Duration
}

// Bar is one drawn bar of the timeline: a job (N 1, Job its index in the
// jobs laid out) or an aggregate of N > 1 neighbouring jobs of one row too
// narrow to see one by one (Job -1, Counts by outcome, Outcome the worst
// of them). X and W are in pixels, W at least MinBarWidth.
type Bar struct {
	Row     int
	X, W    float64
	Job     int
	N       int
	Outcome Outcome
	Counts  [numOutcomes]int
}

// MinBarWidth is the narrowest bar drawn, in pixels: narrower jobs are
// aggregated with their neighbours.
const MinBarWidth = 2.0

// Layout is a timeline: its rows (by host, then worker), its bars, and
// the time span drawn in Width pixels.
type Layout struct {
	Start time.Time
	Span  time.Duration // from the first start to the last end
	Width float64
	Rows  []Row
	Bars  []Bar
}

// NewLayout lays out the jobs that started on a timeline width pixels
// wide. A job goes to the row of its host and worker; records that name
// no worker (a joblog) are packed into slots per host, each job into the
// lowest-numbered slot free at its start, which is how many workers the
// run had at least. Bars narrower than MinBarWidth are merged with the
// narrow bars next to them in their row.
func NewLayout(jobs []Job, width float64) Layout {
	l := Layout{Width: width}
	var ran []int // indexes of the jobs that started, by start
	var end time.Time
	for i := range jobs {
		if !jobs[i].Started() {
			continue
		}
		ran = append(ran, i)
		if l.Start.IsZero() || jobs[i].Start.Before(l.Start) {
			l.Start = jobs[i].Start
		}
		if e := jobs[i].End(); e.After(end) {
			end = e
		}
	}
	if len(ran) == 0 {
		return l
	}
	l.Span = end.Sub(l.Start)
	slices.SortStableFunc(ran, func(a, b int) int {
		return cmp.Or(jobs[a].Start.Compare(jobs[b].Start), cmp.Compare(jobs[a].Seq, jobs[b].Seq))
	})

	type key struct{ host, worker string }
	rowOf := map[key]int{}
	free := map[string][]time.Time{} // per host, the end of each packed slot's last job
	jobRow := make(map[int]int, len(ran))
	for _, i := range ran {
		j := &jobs[i]
		k := key{j.Host, j.Worker}
		if j.Worker == "" {
			slots := free[j.Host]
			// A millisecond of slack: joblog times are rounded.
			s := slices.IndexFunc(slots, func(t time.Time) bool { return !t.After(j.Start.Add(time.Millisecond)) })
			if s < 0 {
				s = len(slots)
				slots = append(slots, time.Time{})
			}
			slots[s] = j.End()
			free[j.Host] = slots
			k.worker = "slot " + strconv.Itoa(s+1)
		}
		r, ok := rowOf[k]
		if !ok {
			r = len(l.Rows)
			rowOf[k] = r
			l.Rows = append(l.Rows, Row{Host: k.host, Worker: k.worker})
		}
		l.Rows[r].Jobs++
		l.Rows[r].Busy += j.Duration
		jobRow[i] = r
	}
	// Rows by host, then worker (worker_2 before worker_10).
	order := make([]int, len(l.Rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ra, rb := l.Rows[a], l.Rows[b]
		return cmp.Or(cmp.Compare(ra.Host, rb.Host), naturalCompare(ra.Worker, rb.Worker))
	})
	newIndex := make([]int, len(order))
	rows := make([]Row, len(order))
	for to, from := range order {
		newIndex[from] = to
		rows[to] = l.Rows[from]
	}
	l.Rows = rows

	scale := 0.0
	if l.Span > 0 {
		scale = width / float64(l.Span)
	}
	open := make([]int, len(l.Rows)) // per row, its aggregate bar being grown (index+1 in l.Bars), or 0
	for _, i := range ran {
		j := &jobs[i]
		r := newIndex[jobRow[i]]
		x := float64(j.Start.Sub(l.Start)) * scale
		w := float64(j.Duration) * scale
		if w >= MinBarWidth {
			open[r] = 0
			b := Bar{Row: r, X: x, W: w, Job: i, N: 1, Outcome: j.Outcome}
			b.Counts[j.Outcome]++
			l.Bars = append(l.Bars, b)
			continue
		}
		if o := open[r]; o > 0 && x <= l.Bars[o-1].X+l.Bars[o-1].W {
			b := &l.Bars[o-1]
			b.W = max(b.W, x+w-b.X, MinBarWidth)
			b.N++
			b.Job = -1
			b.Counts[j.Outcome]++
			b.Outcome = max(b.Outcome, j.Outcome)
			continue
		}
		b := Bar{Row: r, X: x, W: MinBarWidth, Job: i, N: 1, Outcome: j.Outcome}
		b.Counts[j.Outcome]++
		l.Bars = append(l.Bars, b)
		open[r] = len(l.Bars)
	}
	return l
}

// naturalCompare orders strings with their digit runs compared as
// numbers: worker_2 before worker_10.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digits(s string) int {
	return len(s) - len(strings.TrimLeft(s, "0123456789"))
}

// Tick is a mark of the time axis: its position in pixels and its label.
type Tick struct {
	X     float64
	Label string
}

// tickSteps are the axis steps to choose from.
var tickSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// Ticks are the marks of the layout's time axis: the smallest step that
// gives at most max marks, labelled from 0.
func (l *Layout) Ticks(maxTicks int) []Tick {
	if l.Span <= 0 || maxTicks < 1 {
		return []Tick{{0, "0"}}
	}
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if int(l.Span/s) < maxTicks {
			step = s
			break
		}
	}
	for int(l.Span/step) >= maxTicks { // longer than the steps go
		step *= 2
	}
	var ticks []Tick
	for t := time.Duration(0); t <= l.Span; t += step {
		ticks = append(ticks, Tick{X: float64(t) / float64(l.Span) * l.Width, Label: durationText(t)})
	}
	return ticks
}

// durationText writes d shortly, in the units that suit it: 0, 250ms,
// 1.5s, 2m30s, 1h5m.
func durationText(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(float64(d.Round(100*time.Microsecond))/float64(time.Millisecond), 'f', -1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(float64(d.Round(10*time.Millisecond))/float64(time.Second), 'f', -1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return trimZero(strconv.Itoa(int(d/time.Minute))+"m"+strconv.Itoa(int(d%time.Minute/time.Second))+"s", "0s")
	}
	d = d.Round(time.Minute)
	return trimZero(strconv.Itoa(int(d/time.Hour))+"h"+strconv.Itoa(int(d%time.Hour/time.Minute))+"m", "0m")
}

func trimZero(s, zero string) string {
	if strings.HasSuffix(s, zero) && len(s) > len(zero)+1 && (s[len(s)-len(zero)-1] < '0' || s[len(s)-len(zero)-1] > '9') {
		return s[:len(s)-len(zero)]
	}
	return s
}
