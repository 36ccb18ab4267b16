package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/futures-cli/futures/future"
)

// ErrFormat is the error of input that is neither --json records nor a
// joblog; errors of a bad record wrap it too.
var ErrFormat = errors.New("not --json records or a joblog")

// joblogHead is how a joblog's header line starts (ours and GNU
// parallel's).
const joblogHead = "Seq\tHost\tStarttime\tJobRuntime"

// Read reads the records in r, named name in errors: --json lines (the
// --results FILE.jsonl form too), or a GNU parallel-format joblog (ours or
// GNU parallel's own), told apart by their first line. Empty input has no
// jobs. A record that cannot be read is an error naming name and its
// line, wrapping ErrFormat.
func Read(r io.Reader, name string) ([]Job, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var jobs []Job
	var parse func([]byte) (Job, error)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(bytes.TrimSpace(line)) == 0:
			case parse == nil && bytes.HasPrefix(line, []byte(joblogHead)):
				parse = parseJoblogRow
			case parse == nil && line[0] == '{':
				parse = parseJSONRecord
				fallthrough
			default:
				if parse == nil {
					return nil, fmt.Errorf("%s:%d: %w: want a JSON record ({\"seq\":…}) or a joblog header (Seq Host Starttime…), got %q",
						name, n, ErrFormat, clip(string(line), 40))
				}
				j, perr := parse(line)
				if perr != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, n, perr)
				}
				jobs = append(jobs, j)
			}
		}
		if err == io.EOF {
			return jobs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
}

// jsonRecord is the part of a --json record a report reads.
type jsonRecord struct {
	Seq        *int         `json:"seq"`
	Command    string       `json:"command"`
	Args       []string     `json:"args"`
	Worker     string       `json:"worker"`
	Host       string       `json:"host"`
	State      future.State `json:"state"`
	ExitCode   int          `json:"exit_code"`
	Signal     string       `json:"signal"`
	Error      string       `json:"error"`
	Start      time.Time    `json:"start"`
	DurationMS float64      `json:"duration_ms"`
	MaxRSSKB   int64        `json:"max_rss_kb"`
	UserMS     float64      `json:"user_ms"`
	SysMS      float64      `json:"sys_ms"`
	Stderr     string       `json:"stderr"`
}

func parseJSONRecord(line []byte) (Job, error) {
	var rec jsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return Job{}, fmt.Errorf("%w: bad JSON record: %v", ErrFormat, err)
	}
	if rec.Seq == nil {
		return Job{}, fmt.Errorf("%w: JSON record without \"seq\"", ErrFormat)
	}
	if rec.DurationMS < 0 || math.IsNaN(rec.DurationMS) {
		return Job{}, fmt.Errorf("%w: duration_ms %v: want 0 or more", ErrFormat, rec.DurationMS)
	}
	j := Job{
		Seq: *rec.Seq, Command: rec.Command, Args: rec.Args, Worker: rec.Worker, Host: rec.Host,
		Outcome:  outcomeOf(rec.State, rec.Error, rec.Signal, rec.ExitCode),
		ExitCode: rec.ExitCode, Signal: rec.Signal, Error: rec.Error,
		Duration: msDuration(rec.DurationMS), MaxRSSKB: rec.MaxRSSKB,
		User: msDuration(rec.UserMS), Sys: msDuration(rec.SysMS), Stderr: tail(rec.Stderr),
	}
	if rec.Start.Year() > 1 {
		j.Start = rec.Start
	}
	return j, nil
}

// parseJoblogRow reads one joblog row: Seq Host Starttime JobRuntime Send
// Receive Exitval Signal Command, tab-separated; the command may hold
// tabs, and NULs where it had newlines.
func parseJoblogRow(line []byte) (Job, error) {
	f := strings.SplitN(string(line), "\t", 9)
	if len(f) != 9 {
		return Job{}, fmt.Errorf("%w: joblog row with %d fields, want 9 (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)", ErrFormat, len(f))
	}
	seq, err := strconv.Atoi(strings.TrimSpace(f[0]))
	if err != nil {
		return Job{}, fmt.Errorf("%w: Seq %q: want a number", ErrFormat, f[0])
	}
	start, err := strconv.ParseFloat(strings.TrimSpace(f[2]), 64)
	if err != nil || start < 0 || math.IsInf(start, 0) {
		return Job{}, fmt.Errorf("%w: Starttime %q: want Unix seconds", ErrFormat, f[2])
	}
	run, err := strconv.ParseFloat(strings.TrimSpace(f[3]), 64)
	if err != nil || run < 0 || math.IsInf(run, 0) {
		return Job{}, fmt.Errorf("%w: JobRuntime %q: want seconds", ErrFormat, f[3])
	}
	exit, err := strconv.Atoi(strings.TrimSpace(f[6]))
	if err != nil {
		return Job{}, fmt.Errorf("%w: Exitval %q: want a number", ErrFormat, f[6])
	}
	sig, err := strconv.Atoi(strings.TrimSpace(f[7]))
	if err != nil {
		return Job{}, fmt.Errorf("%w: Signal %q: want a number", ErrFormat, f[7])
	}
	j := Job{
		Seq: seq, Command: strings.ReplaceAll(f[8], "\x00", "\n"),
		Start:    time.UnixMilli(int64(math.Round(start * 1000))),
		Duration: time.Duration(run * float64(time.Second)),
		ExitCode: exit,
	}
	if h := f[1]; h != ":" {
		j.Host = h
	}
	switch {
	case sig != 0:
		j.Outcome, j.Signal = Killed, "signal "+strconv.Itoa(sig)
		j.ExitCode = 128 + sig
	case exit != 0:
		j.Outcome = Failed
	}
	return j, nil
}

// clip cuts s to at most n runes, ending in … when it was longer.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}
