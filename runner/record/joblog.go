package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/input"
)

// joblogHeader is the first line of a joblog, as GNU parallel writes it.
const joblogHeader = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

// Joblog writes GNU parallel's joblog (--joblog): a header line, then one
// tab-separated row per finished job,
//
//	Seq  Host  Starttime  JobRuntime  Send  Receive  Exitval  Signal  Command
//	1    :     1700000000.123       0.004  0  3  0  0  echo hi
//
// with the values as GNU parallel writes them: Host ":" for this machine
// (Result.Host otherwise); Starttime in Unix seconds with 3 decimals;
// JobRuntime in seconds with 3 decimals (truncated), right-aligned in 10
// columns; Send the bytes of the files sent to the job's worker
// (Result.SentBytes, --transferfile) and Receive those of its stdout (len
// of Result.Stdout: 0 when the caller does not keep it) and of the files
// brought back (Result.ReceivedBytes, --return); Exitval and Signal
// as parallel reads them from wait(2), so a job killed by signal N has
// Exitval 0 and Signal N (a Result says 128+N and the signal's name); and
// the command line with each newline replaced by a NUL byte, as parallel
// does, so a row stays one line. Each row is written with one write(2),
// so a reader may tail the file and the rows of finished jobs survive the
// runner being killed. A Joblog is safe for concurrent use.
type Joblog struct {
	mu  sync.Mutex // guards f and buf
	f   *os.File
	buf []byte
}

// CreateJoblog creates (or truncates) the joblog at path and writes its
// header. With appendTo (--resume, --resume-failed) it keeps the rows
// already there (but for a last one cut short, which it drops) and writes
// the header only if the file is new or empty.
func CreateJoblog(path string, appendTo bool) (*Joblog, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_RDWR | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("joblog: %w", err)
	}
	head := joblogHeader
	if appendTo {
		if head, err = appendHead(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("joblog %s: %w", path, err)
		}
	}
	if head != "" {
		if _, err := f.WriteString(head); err != nil {
			f.Close()
			return nil, fmt.Errorf("joblog: %w", err)
		}
	}
	return &Joblog{f: f}, nil
}

// appendHead prepares a joblog opened to append: a last row cut short
// (the runner killed in the middle of writing it) is cut off, and the
// header is returned when the file is empty.
func appendHead(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		return "", nil
	}
	end := size // just after the last newline
	buf := make([]byte, 4096)
	for end > 0 {
		off := max(end-int64(len(buf)), 0)
		chunk := buf[:end-off]
		if _, err := f.ReadAt(chunk, off); err != nil {
			return "", err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			end = off + int64(i) + 1
			break
		}
		end = off
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return "", err
		}
	}
	if end == 0 {
		return joblogHeader, nil
	}
	return "", nil
}

// Write appends r's row and passes it to the file at once.
func (j *Joblog) Write(r *Result) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("joblog: write after Close")
	}
	j.buf = appendJoblogRow(j.buf[:0], r)
	if _, err := j.f.Write(j.buf); err != nil {
		return fmt.Errorf("joblog: %w", err)
	}
	return nil
}

func appendJoblogRow(b []byte, r *Result) []byte {
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, '\t')
	if r.Host == "" {
		b = append(b, ':')
	} else {
		b = append(b, r.Host...)
	}
	b = append(b, '\t')
	var ms int64
	if !r.Start.IsZero() {
		ms = r.Start.UnixMilli()
	}
	b = fmt.Appendf(b, "%d.%03d\t", ms/1000, ms%1000)
	b = fmt.Appendf(b, "%10.3f\t", float64(int64(r.DurationMS))/1000)
	b = strconv.AppendInt(b, r.SentBytes, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(len(r.Stdout))+r.ReceivedBytes, 10)
	b = append(b, '\t')
	exitval, sig := r.ExitCode, 0
	if n, ok := job.SignalNumber(r.Signal); r.Signal != "" && ok {
		exitval, sig = 0, n
	}
	b = strconv.AppendInt(b, int64(exitval), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(sig), 10)
	b = append(b, '\t')
	for i := 0; i < len(r.Command); i++ {
		if c := r.Command[i]; c == '\n' {
			b = append(b, 0)
		} else {
			b = append(b, c)
		}
	}
	return append(b, '\n')
}

// Close closes the file.
func (j *Joblog) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// ResumeBy is what --resume and --resume-failed match a job to a joblog
// row by (--resume-by).
type ResumeBy int

const (
	// ResumeBySeq matches the job's sequence number with the row's Seq,
	// as GNU parallel does (the default): the input must be the same.
	ResumeBySeq ResumeBy = iota
	// ResumeByCommand matches the job's command line with the row's
	// Command, as rush's -c does: items may be added, removed or moved.
	// Jobs with the same command are one job to it.
	ResumeByCommand
)

// ParseResumeBy parses "seq" or "command".
func ParseResumeBy(s string) (ResumeBy, error) {
	switch s {
	case "seq", "":
		return ResumeBySeq, nil
	case "command":
		return ResumeByCommand, nil
	}
	return ResumeBySeq, fmt.Errorf("--resume-by %q: want seq or command", s)
}

// readJoblogSeqs reads a joblog for --resume and --resume-failed: the Seq of
// every job it records, and whether that job succeeded (Exitval 0 and
// Signal 0; a job recorded more than once succeeded if any of its rows
// says so). A missing file is an empty map. A malformed row is an error
// naming its line. An unterminated last line (a row cut short when the
// runner was killed mid-write) is not a record, even when what is there
// parses: that job is not done, and is run again.
func readJoblogSeqs(path string) (map[int]bool, error) {
	done := make(map[int]bool)
	err := readJoblog(path, func(seq int, _ string, ok bool) { done[seq] = done[seq] || ok })
	if err != nil {
		return nil, err
	}
	return done, nil
}

// readJoblogCommands is readJoblogSeqs keyed on the command line (the row's
// Command, its NUL bytes turned back into the newlines they stand for),
// for --resume-by command.
func readJoblogCommands(path string) (map[string]bool, error) {
	done := make(map[string]bool)
	err := readJoblog(path, func(_ int, cmd string, ok bool) { done[cmd] = done[cmd] || ok })
	if err != nil {
		return nil, err
	}
	return done, nil
}

// readJoblog calls row for each complete row of the joblog at path.
func readJoblog(path string, row func(seq int, command string, ok bool)) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("joblog: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("joblog: %w", err)
		}
		if !strings.HasSuffix(line, "\n") {
			break // the end, or a last row cut short: not a record
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" || n == 1 && strings.HasPrefix(line, "Seq\t") {
			continue
		}
		seq, cmd, ok, perr := parseJoblogRow(line)
		if perr != nil {
			if len(line) > 80 {
				line = line[:80] + "…"
			}
			return fmt.Errorf("joblog %s, line %d: %w: %q", path, n, perr, line)
		}
		row(seq, cmd, ok)
	}
	return nil
}

// parseJoblogRow returns a row's Seq, its Command and whether its job
// succeeded.
func parseJoblogRow(line string) (seq int, command string, ok bool, err error) {
	f := strings.SplitN(line, "\t", 9)
	if len(f) < 9 {
		return 0, "", false, fmt.Errorf("malformed row: %d tab-separated fields, want 9 (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)", len(f))
	}
	seq, err = strconv.Atoi(f[0])
	if err != nil || seq < 0 {
		return 0, "", false, fmt.Errorf("malformed row: Seq %q is not a job number", f[0])
	}
	for i, name := range []string{"Starttime", "JobRuntime", "Send", "Receive"} {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f[2+i]), 64); err != nil {
			return 0, "", false, fmt.Errorf("malformed row: %s %q is not a number", name, f[2+i])
		}
	}
	exitval, err := strconv.Atoi(strings.TrimSpace(f[6]))
	if err != nil {
		return 0, "", false, fmt.Errorf("malformed row: Exitval %q is not a number", f[6])
	}
	sig, err := strconv.Atoi(strings.TrimSpace(f[7]))
	if err != nil {
		return 0, "", false, fmt.Errorf("malformed row: Signal %q is not a number", f[7])
	}
	return seq, strings.ReplaceAll(f[8], "\x00", "\n"), exitval == 0 && sig == 0, nil
}

// Resume is what --resume and --resume-failed skip: the jobs a joblog
// records (--resume) or records as succeeded (--resume-failed), by Seq or
// by command (--resume-by). A nil *Resume skips nothing.
type Resume struct {
	seq   map[int]bool    // the keys are the jobs to skip
	cmd   map[string]bool // --resume-by command: the keys are the commands to skip
	slots int             // the worker slots, for a command's {%}
}

// ReadResume reads the joblog at path for --resume, or with
// succeededOnly for --resume-failed, matching jobs by. slots is the
// number of worker slots: a command with {%} is matched as a dry run
// shows it. A missing joblog skips nothing; a malformed one is an error.
func ReadResume(path string, succeededOnly bool, by ResumeBy, slots int) (*Resume, error) {
	s := &Resume{slots: max(slots, 1)}
	var err error
	if by == ResumeByCommand {
		s.cmd, err = readJoblogCommands(path)
		for k, ok := range s.cmd {
			if succeededOnly && !ok {
				delete(s.cmd, k)
			}
		}
	} else {
		s.seq, err = readJoblogSeqs(path)
		for k, ok := range s.seq {
			if succeededOnly && !ok {
				delete(s.seq, k)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Skip reports whether job is done by the joblog's account.
func (s *Resume) Skip(job *input.Job) bool {
	switch {
	case s == nil:
		return false
	case s.cmd != nil:
		// A command with {%} depends on the slot it runs in: this one
		// is the slot a dry run shows.
		c, err := job.Command((job.Seq-1)%s.slots + 1)
		if err != nil {
			return false
		}
		_, done := s.cmd[c.Line]
		return done
	}
	_, done := s.seq[job.Seq]
	return done
}
