package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Job // Seq, Command, Host, Outcome, ExitCode, Start, Duration, Stderr compared
	}{
		{
			name: "--json records: outcomes read from state, error, signal and exit code",
			input: `{"seq":1,"command":"true","args":["a"],"worker":"worker_0","state":"FINISHED","exit_code":0,"signal":"","error":"","start":"2026-01-02T03:04:05Z","duration_ms":1500,"max_rss_kb":10,"user_ms":1,"sys_ms":2,"stdout":"x","stderr":""}
{"seq":2,"command":"exit 3","args":[],"worker":"worker_1","state":"FINISHED","exit_code":3,"signal":"","error":"","start":"2026-01-02T03:04:05Z","duration_ms":1,"stderr":"oops\n"}
{"seq":3,"command":"sleep 9","worker":"worker_0","state":"FINISHED","exit_code":143,"signal":"SIGTERM","error":"terminated: job timeout","start":"2026-01-02T03:04:06.5Z","duration_ms":500}

{"seq":4,"command":"kill","worker":"worker_1","state":"FINISHED","exit_code":137,"signal":"SIGKILL","error":"","start":"2026-01-02T03:04:05Z","duration_ms":2}
{"seq":5,"command":"sleep 1","worker":"","state":"CANCELLED","exit_code":0,"error":"cancelled: interrupted by SIGINT","start":"0001-01-01T00:00:00Z","duration_ms":0}
{"seq":6,"command":"sleep 1","worker":"worker_0","state":"FINISHED","exit_code":143,"signal":"SIGTERM","error":"terminated: interrupted by SIGINT","start":"2026-01-02T03:04:05Z","duration_ms":3}
{"seq":7,"command":"nope","worker":"worker_0","state":"FINISHED","exit_code":127,"error":"exec: not found","start":"2026-01-02T03:04:05Z","duration_ms":0}
`,
			want: []Job{
				{Seq: 1, Command: "true", Outcome: Succeeded, Start: t0, Duration: 1500 * time.Millisecond},
				{Seq: 2, Command: "exit 3", Outcome: Failed, ExitCode: 3, Start: t0, Duration: time.Millisecond, Stderr: "oops"},
				{Seq: 3, Command: "sleep 9", Outcome: TimedOut, ExitCode: 143, Start: t0.Add(1500 * time.Millisecond), Duration: 500 * time.Millisecond},
				{Seq: 4, Command: "kill", Outcome: Killed, ExitCode: 137, Start: t0, Duration: 2 * time.Millisecond},
				{Seq: 5, Command: "sleep 1", Outcome: Cancelled},
				{Seq: 6, Command: "sleep 1", Outcome: Cancelled, ExitCode: 143, Start: t0, Duration: 3 * time.Millisecond},
				{Seq: 7, Command: "nope", Outcome: Failed, ExitCode: 127, Start: t0},
			},
		},
		{
			name: "a GNU parallel joblog: Host : is this machine, a signal is a killed job, NUL a newline",
			input: "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" +
				"1\t:\t1767323045.000\t     1.500\t0\t3\t0\t0\techo a\tb\n" +
				"2\tserver1\t1767323045.250\t     0.010\t0\t0\t2\t0\tfalse\n" +
				"3\t:\t1767323046.000\t     0.000\t0\t0\t0\t9\tsh -c 'kill -9 $$'\x00x\n",
			want: []Job{
				{Seq: 1, Command: "echo a\tb", Outcome: Succeeded, Start: t0, Duration: 1500 * time.Millisecond},
				{Seq: 2, Command: "false", Host: "server1", Outcome: Failed, ExitCode: 2, Start: t0.Add(250 * time.Millisecond), Duration: 10 * time.Millisecond},
				{Seq: 3, Command: "sh -c 'kill -9 $$'\nx", Outcome: Killed, ExitCode: 137, Start: t0.Add(time.Second)},
			},
		},
		{name: "empty input has no jobs", input: "\n\n"},
		{name: "a joblog with its header only has no jobs", input: "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := Read(strings.NewReader(tt.input), "in")
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != len(tt.want) {
				t.Fatalf("%d jobs, want %d: %+v", len(jobs), len(tt.want), jobs)
			}
			for i, g := range jobs {
				w := tt.want[i]
				if g.Seq != w.Seq || g.Command != w.Command || g.Host != w.Host || g.Outcome != w.Outcome ||
					g.ExitCode != w.ExitCode || !g.Start.Equal(w.Start) || g.Duration != w.Duration || g.Stderr != w.Stderr {
					t.Errorf("job %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"text that is neither", "hello\n", `in:1: not --json records or a joblog: want a JSON record ({"seq":…}) or a joblog header (Seq Host Starttime…), got "hello"`},
		{"a JSON line cut short", `{"seq":1}` + "\n" + `{"seq":2,"comm` + "\n", "in:2: not --json records or a joblog: bad JSON record: unexpected end of JSON input"},
		{"a JSON record without seq", `{"command":"x"}`, `in:1: not --json records or a joblog: JSON record without "seq"`},
		{"a joblog row short of fields", "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n1\t:\t1\n", "in:2: not --json records or a joblog: joblog row with 3 fields, want 9 (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)"},
		{"a joblog row with a bad runtime", "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n1\t:\t1\tsoon\t0\t0\t0\t0\tx\n", `in:2: not --json records or a joblog: JobRuntime "soon": want seconds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.input), "in")
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant  %s", err, tt.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not match ErrFormat", err)
			}
		})
	}
}

func TestHTMLEscapesEverything(t *testing.T) {
	evil := `<script>document.title="owned"</script>`
	jobs := []Job{
		{Seq: 1, Command: evil, Args: []string{`"><img src=x onerror=alert(1)>`}, Worker: `<b>w</b>`, Host: `<i>h</i>`,
			Outcome: Failed, ExitCode: 1, Start: t0, Duration: time.Second, Stderr: "</pre><script>alert(2)</script>"},
		{Seq: 2, Command: "ok", Worker: "worker_0", Host: "h2", Outcome: Succeeded, Start: t0, Duration: time.Second},
	}
	var b bytes.Buffer
	if err := HTML(&b, jobs, Options{Title: "<title>run</title>"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>document", "<script>alert", "<img", "<b>w</b>", "<i>h</i>", "<title>run</title>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	if n := strings.Count(page, "<script>"); n != 2 {
		t.Errorf("page has %d <script> elements, want our own 2", n)
	}
	for _, ext := range []string{"http:", "https:", "@import", "url("} {
		if strings.Contains(page, ext) {
			t.Errorf("page refers to something outside it: %q", ext)
		}
	}
	if n := strings.Count(page, `<rect class="bar`); n != 2 {
		t.Errorf("%d bars, want 2", n)
	}
}

func TestTextFits80Columns(t *testing.T) {
	long := strings.Repeat("a-very-long-command ", 20)
	jobs := []Job{
		{Seq: 1, Command: long, Worker: strings.Repeat("w", 60), Host: "a-host-with-a-long-name.example.org", Outcome: Failed, ExitCode: 1,
			Start: t0, Duration: 90 * time.Second, Stderr: "line 1\n" + long + "\nline 3\tend"},
		{Seq: 2, Command: "ok", Worker: "worker_1", Outcome: Succeeded, Start: t0, Duration: time.Second},
	}
	var b bytes.Buffer
	if err := Text(&b, jobs, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := len([]rune(line)); n > TextWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
	}
	for _, want := range []string{
		"2 jobs in 1m30s: 1 succeeded, 1 failed, 0 cancelled, 0 timed out",
		"utilisation 51% over 2 worker slots",
		"tail: job 1 ran alone for the last 1m29s (99% of the wall time)",
		"    | line 3 end",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

func TestTextCountsInTheSummaryLinesOrderAndTheSingular(t *testing.T) {
	jobs := []Job{{Seq: 1, Command: "true", Worker: "worker_0", Outcome: Succeeded, Start: t0, Duration: time.Second}}
	var b bytes.Buffer
	if err := Text(&b, jobs, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1 job in 1s: 1 succeeded, 0 failed, 0 cancelled, 0 timed out\n",
		"utilisation 100% over 1 worker slot\n",
		" 100%      1 job\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
