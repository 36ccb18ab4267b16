package report

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at is a job that ran on worker from start to start+dur (in seconds).
func at(seq int, host, worker string, start, dur float64, o Outcome) Job {
	return Job{Seq: seq, Command: "job", Host: host, Worker: worker, Outcome: o,
		Start:    t0.Add(time.Duration(start * float64(time.Second))),
		Duration: time.Duration(dur * float64(time.Second))}
}

type barWant struct {
	row  int
	x, w float64
	n    int
	o    Outcome
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name string
		jobs []Job
		rows []string // host/worker of each row
		bars []barWant
	}{
		{
			name: "each worker is a row, in natural order, each job a bar scaled to the span",
			jobs: []Job{
				at(1, "", "worker_10", 0, 5, Succeeded),
				at(2, "", "worker_2", 5, 5, Failed),
				at(3, "", "worker_10", 5, 2.5, TimedOut),
			},
			rows: []string{"/worker_2", "/worker_10"},
			bars: []barWant{{1, 0, 500, 1, Succeeded}, {0, 500, 500, 1, Failed}, {1, 500, 250, 1, TimedOut}},
		},
		{
			name: "rows are grouped by host",
			jobs: []Job{
				at(1, "b", "worker_0", 0, 10, Succeeded),
				at(2, "a", "worker_1", 0, 5, Succeeded),
				at(3, "a", "worker_0", 5, 5, Killed),
			},
			rows: []string{"a/worker_0", "a/worker_1", "b/worker_0"},
			bars: []barWant{{2, 0, 1000, 1, Succeeded}, {1, 0, 500, 1, Succeeded}, {0, 500, 500, 1, Killed}},
		},
		{
			name: "a joblog's jobs are packed into the lowest free slot of their host",
			jobs: []Job{
				at(1, "", "", 0, 4, Succeeded),
				at(2, "", "", 0, 2, Succeeded),
				at(3, "", "", 2, 2, Succeeded),
				at(4, "", "", 3, 7, Succeeded),
				at(5, "h", "", 4, 6, Succeeded),
			},
			rows: []string{"/slot 1", "/slot 2", "/slot 3", "h/slot 1"},
			bars: []barWant{{0, 0, 400, 1, Succeeded}, {1, 0, 200, 1, Succeeded}, {1, 200, 200, 1, Succeeded}, {2, 300, 700, 1, Succeeded}, {3, 400, 600, 1, Succeeded}},
		},
		{
			name: "jobs that never started have no bar",
			jobs: []Job{at(1, "", "worker_0", 0, 1, Succeeded), {Seq: 2, Outcome: Cancelled}},
			rows: []string{"/worker_0"},
			bars: []barWant{{0, 0, 1000, 1, Succeeded}},
		},
		{
			name: "neighbouring bars too narrow to see are one bar of the worst outcome",
			jobs: []Job{
				at(1, "", "worker_0", 0, 0.001, Succeeded),
				at(2, "", "worker_0", 0.001, 0.001, Failed),
				at(3, "", "worker_0", 0.002, 0.001, Succeeded),
				at(4, "", "worker_0", 5, 0.001, Succeeded), // far from the others: a bar of its own
				at(5, "", "worker_0", 9, 1, Succeeded),
			},
			rows: []string{"/worker_0"},
			bars: []barWant{{0, 0, MinBarWidth, 3, Failed}, {0, 500, MinBarWidth, 1, Succeeded}, {0, 900, 100, 1, Succeeded}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLayout(tt.jobs, 1000)
			var rows []string
			for _, r := range l.Rows {
				rows = append(rows, r.Host+"/"+r.Worker)
			}
			if len(rows) != len(tt.rows) {
				t.Fatalf("rows %q, want %q", rows, tt.rows)
			}
			for i := range rows {
				if rows[i] != tt.rows[i] {
					t.Fatalf("rows %q, want %q", rows, tt.rows)
				}
			}
			if len(l.Bars) != len(tt.bars) {
				t.Fatalf("%d bars %+v, want %d", len(l.Bars), l.Bars, len(tt.bars))
			}
			for i, b := range l.Bars {
				w := tt.bars[i]
				if b.Row != w.row || !near(b.X, w.x) || !near(b.W, w.w) || b.N != w.n || b.Outcome != w.o {
					t.Errorf("bar %d: row %d x %.2f w %.2f n %d %s, want row %d x %.2f w %.2f n %d %s",
						i, b.Row, b.X, b.W, b.N, b.Outcome, w.row, w.x, w.w, w.n, w.o)
				}
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }

func TestLayoutAggregatesALongRun(t *testing.T) {
	// 100,000 jobs of 10ms on 8 workers: 125 s on 1000 px, 0.08 px a job.
	const n, workers = 100000, 8
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = at(i+1, "", "worker_"+string(rune('0'+i%workers)), float64(i/workers)*0.01, 0.01, Succeeded)
	}
	l := NewLayout(jobs, 1000)
	if len(l.Rows) != workers {
		t.Fatalf("%d rows, want %d", len(l.Rows), workers)
	}
	total := 0
	for _, b := range l.Bars {
		total += b.N
	}
	if total != n {
		t.Errorf("bars hold %d jobs, want %d", total, n)
	}
	if len(l.Bars) > workers*1000/int(MinBarWidth) {
		t.Errorf("%d bars drawn for %d jobs: want them aggregated", len(l.Bars), n)
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		span time.Duration
		want []string
	}{
		{450 * time.Millisecond, []string{"0", "50ms", "100ms", "150ms", "200ms", "250ms", "300ms", "350ms", "400ms", "450ms"}},
		{5 * time.Second, []string{"0", "1s", "2s", "3s", "4s", "5s"}},
		{3 * time.Minute, []string{"0", "30s", "1m", "1m30s", "2m", "2m30s", "3m"}},
		{7 * time.Hour, []string{"0", "1h", "2h", "3h", "4h", "5h", "6h", "7h"}},
	}
	for _, tt := range tests {
		t.Run(tt.span.String(), func(t *testing.T) {
			l := Layout{Span: tt.span, Width: 1000}
			var got []string
			for _, tk := range l.Ticks(10) {
				got = append(got, tk.Label)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ticks %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ticks %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	jobs := []Job{
		at(1, "", "worker_0", 0, 2, Succeeded),
		at(2, "", "worker_1", 0, 1, Failed),
		at(3, "", "worker_1", 1, 1, Killed),
		at(4, "", "worker_0", 2, 8, TimedOut), // runs alone from 2s to 10s
		{Seq: 5, Outcome: Cancelled},
	}
	l := NewLayout(jobs, 1000)
	s := Summarize(jobs, &l, 0)
	if s.Wall != 10*time.Second {
		t.Errorf("wall %v, want 10s", s.Wall)
	}
	if s.Succeeded() != 1 || s.Failed() != 2 || s.Killed() != 1 || s.TimedOut() != 1 || s.Cancelled() != 1 {
		t.Errorf("counts %v", s.Counts)
	}
	if s.Last == nil || s.Last.Seq != 4 || s.Alone != 8*time.Second {
		t.Errorf("tail: last %+v alone %v, want job 4 alone 8s", s.Last, s.Alone)
	}
	if got := s.Slots[0].Share; !near(got, 1) {
		t.Errorf("worker_0 busy %.2f, want 1", got)
	}
	if got := s.Slots[1].Share; !near(got, 0.2) {
		t.Errorf("worker_1 busy %.2f, want 0.2", got)
	}
	if !near(s.Utilisation, 0.6) {
		t.Errorf("utilisation %.2f, want 0.6", s.Utilisation)
	}
	if len(s.Slowest) != 4 || s.Slowest[0].Seq != 4 || s.Slowest[1].Seq != 1 {
		t.Errorf("slowest %v", s.Slowest)
	}
	if len(s.Failures) != 3 || s.Failures[0].Seq != 2 || s.Failures[2].Seq != 4 {
		t.Errorf("failures %v", s.Failures)
	}
}
