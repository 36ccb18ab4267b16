package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/input"
)

func TestResultsDir(t *testing.T) {
	for _, mode := range []OutputMode{Group, Line, Ungroup} {
		t.Run("output mode "+[]string{"group", "line", "ungroup"}[mode], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "res")
			opt := Options{Workers: 2, Output: mode, Results: dir, KeepOrder: true}
			if mode == Ungroup {
				opt.Workers = 1 // the jobs write to the test's buffers themselves
			}
			sum, _, out := runLines(t, opt, "echo out1; echo err1 >&2", "echo out2; exit 3")
			if sum.Succeeded != 1 || sum.Failed != 1 {
				t.Fatalf("%s", sum)
			}
			if !strings.Contains(out, "out1") || !strings.Contains(out, "out2") {
				t.Fatalf("the output does not go to stdout as well: %q", out)
			}
			want := map[string]string{"1/stdout": "out1\n", "1/stderr": "err1\n", "2/stdout": "out2\n", "2/stderr": ""}
			for name, content := range want {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || string(b) != content {
					t.Fatalf("%s: %q, %v; want %q", name, b, err, content)
				}
			}
			var meta struct {
				Seq      int       `json:"seq"`
				Command  string    `json:"command"`
				ExitCode int       `json:"exit_code"`
				Start    time.Time `json:"start"`
				End      time.Time `json:"end"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "2", "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Seq != 2 || meta.ExitCode != 3 || meta.Command != "echo out2; exit 3" || meta.End.Before(meta.Start) || meta.Start.IsZero() {
				t.Fatalf("meta.json: %+v", meta)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Fatalf("%d entries in DIR, want 2 (no temporary ones left)", len(entries))
			}
		})
	}
	t.Run("a second run replaces the results, and retries keep the last attempt", func(t *testing.T) {
		dir := t.TempDir()
		runLines(t, Options{Workers: 1, Results: dir}, "echo old")
		m := filepath.Join(t.TempDir(), "m")
		sum, _, _ := runLines(t, Options{Workers: 1, Retries: 1, Results: dir}, "if [ -e "+m+" ]; then echo new; else touch "+m+"; echo first; exit 1; fi")
		if sum.Succeeded != 1 {
			t.Fatalf("%s", sum)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "1", "stdout")); string(b) != "new\n" {
			t.Fatalf("stdout %q", b)
		}
	})
	t.Run("a cancelled job leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		h, _ := ParseHalt("now,fail=1")
		runLines(t, Options{Workers: 1, Results: dir, Halt: h}, "exit 1", "echo never")
		if _, err := os.Stat(filepath.Join(dir, "2")); !os.IsNotExist(err) {
			t.Fatalf("the cancelled job has a result: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "1", "meta.json")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an unwritable DIR is a setup error", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o644)
		sum, _, _ := runLines(t, Options{Results: filepath.Join(file, "sub")}, "true")
		if sum.ExitStatus() != 2 {
			t.Fatalf("exit %d", sum.ExitStatus())
		}
	})
}

// csvHeader is the header of --results FILE.csv.
const csvHeader = "seq,command,args,worker,state,exit_code,signal,error,start,duration_ms,max_rss_kb,user_ms,sys_ms,stdout,stderr"

func TestResultsFiles(t *testing.T) {
	for _, mode := range []OutputMode{Group, Line} {
		how := []string{"group", "line"}[mode]
		t.Run("JSON Lines, output "+how, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "r.jsonl")
			runLines(t, Options{Workers: 2, Output: mode, Results: name}, "echo a; echo b >&2", "printf 'x\\ny'; exit 2")
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := map[int]Result{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var r Result
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%q: %v", sc.Text(), err)
				}
				got[r.Seq] = r
			}
			if len(got) != 2 || got[1].Stdout != "a\n" || got[1].Stderr != "b\n" || got[2].Stdout != "x\ny" || got[2].ExitCode != 2 {
				t.Fatalf("records %+v", got)
			}
		})
		t.Run("CSV, output "+how, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "r.csv")
			runLines(t, Options{Workers: 1, Output: mode, Results: name, KeepOrder: true}, "echo 'a,\"b\"'", "exit 4")
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 || strings.Join(rows[0], ",") != csvHeader {
				t.Fatalf("rows %q", rows)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			if rows[1][col["stdout"]] != "a,\"b\"\n" || rows[2][col["exit_code"]] != "4" || rows[1][col["command"]] != `echo 'a,"b"'` {
				t.Fatalf("rows %q", rows)
			}
		})
	}
}

// allocated returns the bytes the Go heap allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A job printing 32 MiB: its record is written without the runner ever
// allocating memory in proportion (a count of bytes allocated, not a
// measure of RSS: the same on any machine, under any load).
func TestLargeOutputRecordsInBoundedMemory(t *testing.T) {
	const size = 32 << 20
	job := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a", size)
	for _, tc := range []struct {
		name    string
		json    bool
		results string
	}{
		{"--json", true, ""},
		{"--results FILE.jsonl", false, "r.jsonl"},
		{"--results FILE.csv", false, "r.csv"},
		{"--json --results FILE.csv", true, "r.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opt := Options{Workers: 1, JSON: tc.json, TempDir: dir, Grace: 2 * time.Second}
			if tc.results != "" {
				opt.Results = filepath.Join(dir, tc.results)
			}
			stdout := &countingWriter{}
			var stderr bytes.Buffer
			opt.Stdout, opt.Stderr = stdout, &stderr
			var sum *Summary
			n := allocated(func() {
				sum = Run(context.Background(), opt, input.SubmitSource(input.NewReader(strings.NewReader(job), '\n'), input.SubmitOptions{}))
			})
			if sum.Succeeded != 1 || stderr.Len() > 0 {
				t.Fatalf("%s; stderr %q", sum, stderr.String())
			}
			t.Logf("allocated %d KiB", n>>10)
			if n > 8<<20 {
				t.Errorf("the run allocated %d MiB for a job printing %d MiB", n>>20, size>>20)
			}
			if stdout.n < size {
				t.Errorf("%d bytes on stdout, want the job's %d and more", stdout.n, size)
			}
			if opt.Results != "" {
				fi, err := os.Stat(opt.Results)
				if err != nil || fi.Size() < size {
					t.Errorf("%s: %v, %v", tc.results, fi, err)
				}
			}
		})
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
