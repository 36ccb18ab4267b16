package record

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/output"
)

// Results on disk (--results). Three forms, by the name given:
//
//   - DIR: each job that ran gets DIR/<seq>/ with its stdout, its stderr
//     and meta.json (seq, args, command, worker, state, exit code, signal,
//     error, start, end, durations). They are written in a hidden
//     temporary directory DIR/.<seq>.* and renamed to DIR/<seq> when the
//     job ends, so a reader sees all of a job's result or none of it; an
//     older DIR/<seq> is replaced.
//   - FILE.jsonl (or .json): one JSON line per job, the --json record
//     with the job's output in it.
//   - FILE.csv: one CSV row per job, under a header: seq, command, args
//     (the items, space-separated), worker, state, exit_code, signal,
//     error, start, duration_ms, max_rss_kb, user_ms, sys_ms, stdout,
//     stderr.
//
// In the file forms a record is streamed from the job's spools
// (recordstream.go), never whole in memory; one goroutine (the emitter)
// writes them, so records never mix.
//
// The job's output still goes to stdout and stderr as usual.

// Results writes --results, for the run loop: Tee as each attempt starts,
// JobEnded as each job's task ends (after its retries), Write as each
// record is emitted, Close at the end. Its methods may be called on a nil
// *Results (no --results): they do nothing. Tee and JobEnded may be called
// from any goroutine; Write from one at a time (the emitter).
type Results struct {
	dir     string // the DIR form
	f       *os.File
	csv     bool
	tempDir string
	budget  *output.Budget

	mu   sync.Mutex // guards jobs
	jobs map[int]*jobResult

	failed atomic.Bool // a result could not be written: the rest are not tried
}

// jobResult is what results keeps of one job while it runs.
type jobResult struct {
	tmp            string        // DIR form: the job's temporary directory
	stdout, stderr *os.File      // DIR form: the files in it
	out, errOut    *output.Spool // file forms, when the run keeps no spools

	mu  sync.Mutex // guards err
	err error      // the first failure to write a result file
}

// csvColumns are the CSV form's columns before its last two, stdout and
// stderr (streamed from the job's output): each header and how a record
// renders it.
var csvColumns = []struct {
	name  string
	value func(*Result) string
}{
	{"seq", func(r *Result) string { return strconv.Itoa(r.Seq) }},
	{"command", func(r *Result) string { return r.Command }},
	{"args", func(r *Result) string { return strings.Join(r.Args, " ") }},
	{"worker", func(r *Result) string { return r.Worker }},
	{"state", func(r *Result) string { return r.State.String() }},
	{"exit_code", func(r *Result) string { return strconv.Itoa(r.ExitCode) }},
	{"signal", func(r *Result) string { return r.Signal }},
	{"error", func(r *Result) string { return r.Error }},
	{"start", func(r *Result) string { return timeText(r.Start) }},
	{"duration_ms", func(r *Result) string { return floatText(r.DurationMS) }},
	{"max_rss_kb", func(r *Result) string { return strconv.FormatInt(r.MaxRSSKB, 10) }},
	{"user_ms", func(r *Result) string { return floatText(r.UserMS) }},
	{"sys_ms", func(r *Result) string { return floatText(r.SysMS) }},
}

// csvHeader is the CSV form's header row.
func csvHeader() []string {
	h := make([]string, 0, len(csvColumns)+2)
	for _, c := range csvColumns {
		h = append(h, c.name)
	}
	return append(h, "stdout", "stderr")
}

// OpenResults opens what --results names, or returns nil when it is "".
// The file forms copy a job's output into spools of their own, in tempDir
// and under budget, when the run keeps none.
func OpenResults(name, tempDir string, budget *output.Budget) (*Results, error) {
	if name == "" {
		return nil, nil
	}
	rs := &Results{tempDir: tempDir, budget: budget, jobs: map[int]*jobResult{}}
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".jsonl", ".json", ".csv":
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--results: %w", err)
		}
		rs.f, rs.csv = f, ext == ".csv"
		if rs.csv {
			if _, err := f.Write(csvRow(csvHeader())); err != nil {
				f.Close()
				return nil, fmt.Errorf("--results: %w", err)
			}
		}
	default:
		if err := os.MkdirAll(name, 0o755); err != nil {
			return nil, fmt.Errorf("--results: %w", err)
		}
		rs.dir = name
	}
	return rs, nil
}

// Close closes the results file.
func (rs *Results) Close() error {
	if rs == nil || rs.f == nil {
		return nil
	}
	err := rs.f.Close()
	rs.f = nil
	if err != nil {
		return fmt.Errorf("--results: %w", err)
	}
	return nil
}

// job returns the state of job seq, made on first use.
func (rs *Results) job(seq int) *jobResult {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	j := rs.jobs[seq]
	if j == nil {
		j = &jobResult{}
		rs.jobs[seq] = j
	}
	return j
}

// take removes and returns the state of job seq, or nil.
func (rs *Results) take(seq int) *jobResult {
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	j := rs.jobs[seq]
	delete(rs.jobs, seq)
	return j
}

// Tee returns the writers an attempt of job seq writes its output to:
// stdout and stderr, and a copy of each for the results. spooled says
// that the run keeps the attempt's output in spools of its own, which it
// passes to Write: the file forms then need no copy.
func (rs *Results) Tee(seq int, spooled bool, stdout, stderr io.Writer) (io.Writer, io.Writer, error) {
	if rs == nil {
		return stdout, stderr, nil
	}
	j := rs.job(seq)
	if rs.dir == "" {
		if spooled {
			return stdout, stderr, nil
		}
		j.closeFiles()
		j.out, j.errOut = output.NewSpool(rs.tempDir, rs.budget), output.NewSpool(rs.tempDir, rs.budget)
		return teeWriter{stdout, j.out, j}, teeWriter{stderr, j.errOut, j}, nil
	}
	if j.tmp == "" {
		tmp, err := os.MkdirTemp(rs.dir, "."+strconv.Itoa(seq)+".")
		if err != nil {
			return stdout, stderr, fmt.Errorf("--results: %w", err)
		}
		j.tmp = tmp
	}
	j.closeFiles()
	var err error
	if j.stdout, err = os.Create(filepath.Join(j.tmp, "stdout")); err != nil {
		return stdout, stderr, fmt.Errorf("--results: %w", err)
	}
	if j.stderr, err = os.Create(filepath.Join(j.tmp, "stderr")); err != nil {
		return stdout, stderr, fmt.Errorf("--results: %w", err)
	}
	return teeWriter{stdout, j.stdout, j}, teeWriter{stderr, j.stderr, j}, nil
}

// closeFiles closes (and forgets) an attempt's result files and spools.
func (j *jobResult) closeFiles() {
	for _, f := range []*os.File{j.stdout, j.stderr} {
		if f != nil {
			f.Close()
		}
	}
	for _, s := range []*output.Spool{j.out, j.errOut} {
		if s != nil {
			s.Close()
		}
	}
	j.stdout, j.stderr, j.out, j.errOut = nil, nil, nil, nil
}

func (j *jobResult) fail(err error) {
	j.mu.Lock()
	if j.err == nil {
		j.err = err
	}
	j.mu.Unlock()
}

// teeWriter writes to w and copies to c; a failure to copy is kept in j,
// and does not stop the output to w.
type teeWriter struct {
	w io.Writer
	c io.Writer
	j *jobResult
}

func (t teeWriter) Write(p []byte) (int, error) {
	if _, err := t.c.Write(p); err != nil {
		t.j.fail(err)
	}
	return t.w.Write(p)
}

// resultMeta is DIR/<seq>/meta.json.
type resultMeta struct {
	Seq        int          `json:"seq"`
	Command    string       `json:"command"`
	Args       []string     `json:"args"`
	Worker     string       `json:"worker"`
	State      future.State `json:"state"`
	ExitCode   int          `json:"exit_code"`
	Signal     string       `json:"signal"`
	Error      string       `json:"error"`
	Start      time.Time    `json:"start"`
	End        time.Time    `json:"end"`
	DurationMS float64      `json:"duration_ms"`
	MaxRSSKB   int64        `json:"max_rss_kb"`
	UserMS     float64      `json:"user_ms"`
	SysMS      float64      `json:"sys_ms"`
}

// JobEnded finishes the DIR form's result of a job that ended (after its
// retries): meta.json is written, and the directory renamed into place.
// A job that never ran and was cancelled leaves nothing.
func (rs *Results) JobEnded(res *Result) error {
	if rs == nil || rs.dir == "" {
		return nil
	}
	if rs.failed.Load() || res.Cancelled() && !res.Started {
		if j := rs.take(res.Seq); j != nil && j.tmp != "" {
			j.closeFiles()
			_ = os.RemoveAll(j.tmp)
		}
		return nil
	}
	j := rs.take(res.Seq)
	if j == nil {
		j = &jobResult{}
	}
	defer j.closeFiles()
	fail := func(err error) error {
		if j.tmp != "" {
			_ = os.RemoveAll(j.tmp)
		}
		if rs.failed.Swap(true) {
			return nil // reported once
		}
		return fmt.Errorf("--results: job %d: %w", res.Seq, err)
	}
	if j.tmp == "" { // it never started (a line that cannot be parsed): empty output
		tmp, err := os.MkdirTemp(rs.dir, "."+strconv.Itoa(res.Seq)+".")
		if err != nil {
			return fail(err)
		}
		j.tmp = tmp
		for _, name := range []string{"stdout", "stderr"} {
			if err := os.WriteFile(filepath.Join(tmp, name), nil, 0o644); err != nil {
				return fail(err)
			}
		}
	}
	for _, f := range []*os.File{j.stdout, j.stderr} {
		if f != nil {
			if err := f.Close(); err != nil {
				j.fail(err)
			}
		}
	}
	j.stdout, j.stderr = nil, nil
	if j.err != nil {
		return fail(j.err)
	}
	start := res.Start
	end := start.Add(time.Duration(res.DurationMS * float64(time.Millisecond)))
	meta := resultMeta{
		Seq: res.Seq, Command: res.Command, Args: res.Args, Worker: res.Worker, State: res.State,
		ExitCode: res.ExitCode, Signal: res.Signal, Error: res.Error, Start: start, End: end,
		DurationMS: res.DurationMS, MaxRSSKB: res.MaxRSSKB, UserMS: res.UserMS, SysMS: res.SysMS,
	}
	if meta.Args == nil {
		meta.Args = []string{}
	}
	// As --json writes a command: no HTML escapes (\u003e for >).
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(meta); err != nil { // ends with a newline
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(j.tmp, "meta.json"), b.Bytes(), 0o644); err != nil {
		return fail(err)
	}
	if err := replaceDir(j.tmp, filepath.Join(rs.dir, strconv.Itoa(res.Seq))); err != nil {
		return fail(err)
	}
	j.tmp = ""
	return nil
}

// replaceDir renames the directory tmp to dst, replacing a dst that
// exists: the two are swapped at once (exchangeDirs: renameat2
// RENAME_EXCHANGE on Linux, renamex_np RENAME_SWAP on macOS), so a reader
// sees the old result or the new one, and the old is removed. Where the
// system or the file system cannot swap (FreeBSD), the old is removed
// first, then the new renamed into place.
func replaceDir(tmp, dst string) error {
	err := os.Rename(tmp, dst)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return err
	}
	if xerr := exchangeDirs(tmp, dst); xerr != nil {
		// No exchange on this file system: remove, then rename.
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	}
	return os.RemoveAll(tmp) // now the old result
}

// Write writes the file forms' record of res, which is being emitted: its
// output is in the run's spools stdout and stderr (group and JSON modes)
// or, when they are nil, in the copies that Tee made. lost is a failure to
// read that output (the record was written with what could be read); err
// a failure to write the record, after which no other is tried.
func (rs *Results) Write(res *Result, stdout, stderr *output.Spool) (lost, err error) {
	if rs == nil || rs.f == nil || rs.failed.Load() {
		if j := rs.take(res.Seq); j != nil {
			j.closeFiles()
		}
		return nil, nil
	}
	j := rs.take(res.Seq)
	if j != nil {
		defer j.closeFiles()
	}
	if stdout == nil && j != nil && j.out != nil {
		stdout, stderr = j.out, j.errOut
	}
	out, errOut := outputSource(stdout, res.Stdout), outputSource(stderr, res.Stderr)
	if rs.csv {
		row := make([]string, len(csvColumns))
		for i, c := range csvColumns {
			row[i] = c.value(res)
		}
		lost, err = writeCSVRow(rs.f, row, out, errOut)
	} else {
		lost, err = writeJSONRecord(rs.f, res, out, errOut)
	}
	if err != nil {
		rs.failed.Store(true)
		return nil, fmt.Errorf("--results: %w", err)
	}
	if lost != nil {
		return fmt.Errorf("--results: %w", lostOutput(res.Seq, lost)), nil
	}
	return nil, nil
}

func csvRow(fields []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(fields)
	w.Flush()
	return b.Bytes()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func floatText(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
