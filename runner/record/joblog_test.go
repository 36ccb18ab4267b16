package record

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

func joblogRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func joblogCreate(t *testing.T, path string, appendTo bool, rs ...*Result) {
	t.Helper()
	j, err := CreateJoblog(path, appendTo)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := j.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestJoblog(t *testing.T) {
	start := time.UnixMilli(1700000000123)
	results := []*Result{
		{Seq: 1, Command: "echo hi", Start: start, DurationMS: 4.9, ExitCode: 0, Stdout: "hi\n"},
		{Seq: 2, Command: "false", Start: start.Add(5 * time.Millisecond), DurationMS: 12345.6789, ExitCode: 1},
		{Seq: 3, Command: "kill -9 $$", Start: start, DurationMS: 2, ExitCode: 137, Signal: "SIGKILL"},
		{Seq: 4, Command: "printf 'a\nb'", Start: start, ExitCode: 0, Host: "server1"},
		{Seq: 5, Command: "futures-no-such-command", Start: start, ExitCode: 127, Error: "command not found"},
		{Seq: 6, Command: "wc -c < a > a.out", Start: start, Host: "server1", SentBytes: 1048576, ReceivedBytes: 8, Stdout: "x\n"},
	}
	// As GNU parallel 20221122 writes them (see `parallel --joblog`).
	const want = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" +
		"1\t:\t1700000000.123\t     0.004\t0\t3\t0\t0\techo hi\n" +
		"2\t:\t1700000000.128\t    12.345\t0\t0\t1\t0\tfalse\n" +
		"3\t:\t1700000000.123\t     0.002\t0\t0\t0\t9\tkill -9 $$\n" +
		"4\tserver1\t1700000000.123\t     0.000\t0\t0\t0\t0\tprintf 'a\x00b'\n" +
		"5\t:\t1700000000.123\t     0.000\t0\t0\t127\t0\tfutures-no-such-command\n" +
		// --transferfile's bytes are Send; --return's are added to the output's in Receive.
		"6\tserver1\t1700000000.123\t     0.000\t1048576\t10\t0\t0\twc -c < a > a.out\n"

	t.Run("the header and rows match GNU parallel's format", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, false, results...)
		if got := joblogRead(t, path); got != want {
			t.Errorf("joblog\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("creating without append starts afresh", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, false, results[:2]...)
		joblogCreate(t, path, false, results[2])
		if got, w := joblogRead(t, path), joblogHeader+strings.SplitAfter(want, "\n")[3]; got != w {
			t.Errorf("joblog %q, want %q", got, w)
		}
	})
	t.Run("appending keeps the rows and writes no second header", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, true, results[:2]...)
		joblogCreate(t, path, true, results[2:]...)
		if got := joblogRead(t, path); got != want {
			t.Errorf("joblog\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("appending drops a last row cut short", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		rows := strings.SplitAfter(want, "\n")
		if err := os.WriteFile(path, []byte(rows[0]+rows[1]+"2\t:\t17000"), 0o644); err != nil {
			t.Fatal(err)
		}
		joblogCreate(t, path, true, results[1:]...)
		if got := joblogRead(t, path); got != want {
			t.Errorf("joblog\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("appending to a header cut short writes it again", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		if err := os.WriteFile(path, []byte("Seq\tHo"), 0o644); err != nil {
			t.Fatal(err)
		}
		joblogCreate(t, path, true, results...)
		if got := joblogRead(t, path); got != want {
			t.Errorf("joblog\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("readJoblogSeqs reads back what Joblog wrote", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, false, results...)
		got, err := readJoblogSeqs(path)
		if err != nil {
			t.Fatal(err)
		}
		if w := map[int]bool{1: true, 2: false, 3: false, 4: true, 5: false, 6: true}; !reflect.DeepEqual(got, w) {
			t.Errorf("readJoblogSeqs = %v, want %v", got, w)
		}
	})
	t.Run("a job that succeeded on a later try counts as succeeded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, true, &Result{Seq: 2, ExitCode: 1}, &Result{Seq: 2, ExitCode: 0})
		if got, err := readJoblogSeqs(path); err != nil || !got[2] {
			t.Errorf("readJoblogSeqs = %v, %v", got, err)
		}
	})
	t.Run("readJoblogSeqs reads GNU parallel's own joblog", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		const parallel = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" +
			"1\t:\t1795564066.556\t     0.000\t0\t0\t0\t0\ttrue\n" +
			"2\t:\t1795564066.559\t     0.003\t0\t0\t1\t0\tfalse\n" +
			"4\t:\t1795564066.566\t     0.002\t0\t0\t0\t9\tkill -9 $$\n" +
			"3\t:\t1795564066.563\t     0.200\t0\t0\t-1\t0\tsleep 9\n" +
			"5\t:\t1795564066.570\t     0.003\t0\t3\t0\t0\techo hi\n"
		if err := os.WriteFile(path, []byte(parallel), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readJoblogSeqs(path)
		if w := map[int]bool{1: true, 2: false, 3: false, 4: false, 5: true}; err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("readJoblogSeqs = %v, %v; want %v", got, err, w)
		}
	})
	t.Run("a missing joblog is empty", func(t *testing.T) {
		got, err := readJoblogSeqs(filepath.Join(t.TempDir(), "none"))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("readJoblogSeqs = %v, %v", got, err)
		}
	})
	t.Run("an unterminated last row is ignored", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		if err := os.WriteFile(path, []byte(strings.SplitAfter(want, "\n")[0]+strings.SplitAfter(want, "\n")[1]+"2\t:\t170"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := readJoblogSeqs(path); err != nil || !reflect.DeepEqual(got, map[int]bool{1: true}) {
			t.Errorf("readJoblogSeqs = %v, %v", got, err)
		}
	})
	t.Run("an unterminated last row that parses whole is still not done", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		rows := strings.SplitAfter(want, "\n")
		torn := strings.TrimSuffix(rows[2], "\n") // job 2, cut just before its newline
		if err := os.WriteFile(path, []byte(rows[0]+rows[1]+torn), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := readJoblogSeqs(path); err != nil || !reflect.DeepEqual(got, map[int]bool{1: true}) {
			t.Errorf("readJoblogSeqs = %v, %v; want job 2 not done", got, err)
		}
		if got, err := readJoblogCommands(path); err != nil || !reflect.DeepEqual(got, map[string]bool{"echo hi": true}) {
			t.Errorf("readJoblogCommands = %v, %v; want job 2 not done", got, err)
		}
		// Appending then cuts the fragment off: the next row starts a line.
		joblogCreate(t, path, true, results[1])
		if got, w := joblogRead(t, path), rows[0]+rows[1]+rows[2]; got != w {
			t.Errorf("joblog\n%q\nwant\n%q", got, w)
		}
	})
	t.Run("readJoblogCommands keys on the command, newlines restored", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "joblog")
		joblogCreate(t, path, false, results...)
		joblogCreate(t, path, true, &Result{Seq: 9, Command: "false", ExitCode: 0})
		got, err := readJoblogCommands(path)
		w := map[string]bool{"echo hi": true, "false": true, "kill -9 $$": false, "printf 'a\nb'": true,
			"futures-no-such-command": false, "wc -c < a > a.out": true}
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("readJoblogCommands = %v, %v; want %v", got, err, w)
		}
	})
	for _, tt := range []struct{ name, row, says string }{
		{"a row with too few fields is an error naming its line", "3\t:\t1700000000.000\n", "9"},
		{"a row whose Seq is not a number is an error naming its line", "x\t:\t1.0\t0.0\t0\t0\t0\t0\tcmd\n", "Seq"},
		{"a row whose Exitval is not a number is an error naming its line", "3\t:\t1.0\t0.0\t0\t0\tno\t0\tcmd\n", "Exitval"},
		{"a row whose Signal is not a number is an error naming its line", "3\t:\t1.0\t0.0\t0\t0\t0\tKILL\tcmd\n", "Signal"},
		{"a row whose Starttime is not a number is an error naming its line", "3\t:\tnoon\t0.0\t0\t0\t0\t0\tcmd\n", "Starttime"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "joblog")
			content := strings.Join(strings.SplitAfter(want, "\n")[:3], "") + tt.row
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readJoblogSeqs(path)
			if err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), path) ||
				!strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %v, want one naming %s, line 4 and %s", err, path, tt.says)
			}
		})
	}
	t.Run("a joblog that cannot be created is an error", func(t *testing.T) {
		if _, err := CreateJoblog(filepath.Join(t.TempDir(), "missing", "joblog"), false); err == nil {
			t.Error("CreateJoblog succeeded in a missing directory")
		}
	})
}

func TestParseResumeBy(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ResumeBy
		err  bool
	}{
		{"seq", ResumeBySeq, false},
		{"", ResumeBySeq, false},
		{"command", ResumeByCommand, false},
		{"cmd", 0, true},
		{"Seq", 0, true},
	} {
		got, err := ParseResumeBy(tt.in)
		if (err != nil) != tt.err || err == nil && got != tt.want {
			t.Errorf("ParseResumeBy(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "want seq or command") {
			t.Errorf("ParseResumeBy(%q) error %q names no choices", tt.in, err)
		}
	}
}

func TestResumeSkip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "joblog")
	joblogCreate(t, path, false,
		&Result{Seq: 1, Command: "echo a"}, &Result{Seq: 2, Command: "echo b", ExitCode: 1})
	tmpl, err := template.Parse([]string{"echo {}"})
	if err != nil {
		t.Fatal(err)
	}
	job := func(seq int, item string) *input.Job {
		return input.NewJob(seq, tmpl, [][]string{{item}})
	}
	for _, tt := range []struct {
		name          string
		succeededOnly bool // --resume-failed
		by            ResumeBy
		job           *input.Job
		skip          bool
	}{
		{"--resume by seq skips a recorded seq", false, ResumeBySeq, job(2, "z"), true},
		{"--resume by seq runs a seq not recorded", false, ResumeBySeq, job(3, "a"), false},
		{"--resume by command skips a recorded command at another seq", false, ResumeByCommand, job(5, "a"), true},
		{"--resume by command runs a new command at a recorded seq", false, ResumeByCommand, job(1, "z"), false},
		{"--resume-failed by command runs a failed command again", true, ResumeByCommand, job(1, "b"), false},
		{"--resume-failed by command skips a succeeded one", true, ResumeByCommand, job(2, "a"), true},
		{"--resume-failed by seq runs a failed seq again", true, ResumeBySeq, job(2, "a"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ReadResume(path, tt.succeededOnly, tt.by, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Skip(tt.job); got != tt.skip {
				t.Errorf("Skip = %v, want %v", got, tt.skip)
			}
		})
	}
	var none *Resume
	if none.Skip(job(1, "a")) {
		t.Errorf("a nil Resume skips a job")
	}
}
