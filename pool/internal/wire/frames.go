package wire

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/futures-cli/futures/pool/job"
)

// ErrorFrame is the payload of FrameError: why the sender stops.
type ErrorFrame struct {
	Message string `json:"message"`
}

// InitFrame is the payload of FrameInit: who the worker is, and the
// initializer it runs before its first job.
type InitFrame struct {
	Name        string        // the worker's name, PREFIX_N
	ID          int           // N
	Initializer string        // a shell snippet; "" for none
	Shell       []string      // runs the snippet: SHELL... SCRIPT; empty: /bin/sh -c
	Env         []string      // extra KEY=VALUE for the initializer
	Grace       time.Duration // TERM → KILL for the initializer, when the worker is stopped
}

// ReadyFrame is the payload of FrameReady: the initializer's result. Error
// is "" when the worker is ready for jobs; otherwise the worker exits.
type ReadyFrame struct {
	Error  string // what failed: "exit status 1", …
	Stderr string // the end of the initializer's stderr
	Dir    string // the working directory its jobs get
	// DirID identifies Dir on its machine ("device:inode"), for a runner
	// on the same machine to tell whether it is its own (package pool, transfer.go).
	DirID string
}

// JobFrame is the payload of FrameJob.
type JobFrame struct {
	ID uint64 `json:"id"` // unique within the session, from 1
	job.Spec
}

// JobRef is the payload of FrameCancel and FrameKill.
type JobRef struct {
	ID uint64 `json:"id"`
}

// StartedFrame is the payload of FrameStarted: the job's main process, which
// leads its process group.
type StartedFrame struct {
	ID  uint64 `json:"id"`
	PID int    `json:"pid"`
}

// OutcomeFrame is the payload of FrameOutcome. Its error crosses the wire
// as its text and the names of the sentinels of package job it matches
// (job.Kinds), and comes back matching them (job.FromWire); Sent and
// Received are not sent.
type OutcomeFrame struct {
	ID uint64 `json:"id"`
	job.Outcome
}

// Strings on the wire. JSON strings are UTF-8, and encoding/json replaces
// the bytes of a Go string that are not; but a command line, an argument,
// an environment entry or a path may hold any bytes but NUL. So the frames
// that carry them encode each such string as a JSON string when it is valid
// UTF-8 (nearly always: the frame stays readable) and as {"b64":"…"}, its
// bytes in base64, otherwise; a reader takes either form.

// wstr is a string that crosses the wire byte for byte.
type wstr string

// b64 is the form of a wstr that is not valid UTF-8.
type b64 struct {
	B64 []byte `json:"b64"`
}

func (s wstr) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(s)) {
		return json.Marshal(string(s))
	}
	return json.Marshal(b64{[]byte(s)})
}

func (s *wstr) UnmarshalJSON(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		var v b64
		if err := json.Unmarshal(p, &v); err != nil {
			return err
		}
		*s = wstr(v.B64)
		return nil
	}
	var v string
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	*s = wstr(v)
	return nil
}

// wstrs is a []string whose elements cross the wire as wstr.
type wstrs []string

func (ss wstrs) MarshalJSON() ([]byte, error) {
	if ss == nil {
		return []byte("null"), nil
	}
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		p, err := wstr(s).MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, p...)
	}
	return append(b, ']'), nil
}

func (ss *wstrs) UnmarshalJSON(p []byte) error {
	var v []wstr
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	if v == nil {
		*ss = nil
		return nil
	}
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	*ss = out
	return nil
}

// The wire forms of the frames that carry such strings.
type (
	initWire struct {
		Name        wstr          `json:"name"`
		ID          int           `json:"id"`
		Initializer wstr          `json:"initializer,omitempty"`
		Shell       wstrs         `json:"shell,omitempty"`
		Env         wstrs         `json:"env,omitempty"`
		Grace       time.Duration `json:"grace_ns,omitempty"`
	}
	readyWire struct {
		Error  wstr   `json:"error,omitempty"`
		Stderr wstr   `json:"stderr,omitempty"`
		Dir    wstr   `json:"dir,omitempty"`
		DirID  string `json:"dir_id,omitempty"`
	}
	jobWire struct {
		ID       uint64        `json:"id"`
		Line     wstr          `json:"line"`
		Argv     wstrs         `json:"argv,omitempty"`
		Shell    bool          `json:"shell,omitempty"`
		ShellCmd wstrs         `json:"shell_cmd,omitempty"`
		Env      wstrs         `json:"env,omitempty"`
		Dir      wstr          `json:"dir,omitempty"`
		Grace    time.Duration `json:"grace_ns,omitempty"`
		Transfer wstrs         `json:"transfer,omitempty"`
		Return   wstrs         `json:"return,omitempty"`
		Cleanup  bool          `json:"cleanup,omitempty"`
		Refuse   bool          `json:"refusable,omitempty"`
	}
	outcomeWire struct {
		ID       uint64        `json:"id"`
		ExitCode int           `json:"exit_code"`
		Signal   string        `json:"signal,omitempty"`
		Error    wstr          `json:"error,omitempty"`
		Start    time.Time     `json:"start"`
		Duration time.Duration `json:"duration_ns"`
		MaxRSSKB int64         `json:"max_rss_kb,omitempty"`
		User     time.Duration `json:"user_ns,omitempty"`
		Sys      time.Duration `json:"sys_ns,omitempty"`
		Canceled bool          `json:"canceled,omitempty"`
		Refused  string        `json:"refused,omitempty"`
		Kinds    []string      `json:"error_kinds,omitempty"`
	}
)

// MarshalJSON encodes f with its strings byte for byte.
func (f InitFrame) MarshalJSON() ([]byte, error) {
	return json.Marshal(initWire{wstr(f.Name), f.ID, wstr(f.Initializer), wstrs(f.Shell), wstrs(f.Env), f.Grace})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *InitFrame) UnmarshalJSON(p []byte) error {
	var w initWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = InitFrame{string(w.Name), w.ID, string(w.Initializer), w.Shell, w.Env, w.Grace}
	return nil
}

// MarshalJSON encodes f with its strings byte for byte.
func (f ReadyFrame) MarshalJSON() ([]byte, error) {
	return json.Marshal(readyWire{wstr(f.Error), wstr(f.Stderr), wstr(f.Dir), f.DirID})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *ReadyFrame) UnmarshalJSON(p []byte) error {
	var w readyWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = ReadyFrame{string(w.Error), string(w.Stderr), string(w.Dir), w.DirID}
	return nil
}

// MarshalJSON encodes f with its strings byte for byte; Environ is not
// sent.
func (f JobFrame) MarshalJSON() ([]byte, error) {
	s := f.Spec
	return json.Marshal(jobWire{f.ID, wstr(s.Line), wstrs(s.Argv), s.Shell, wstrs(s.ShellCmd), wstrs(s.Env), wstr(s.Dir), s.Grace,
		wstrs(s.Transfer), wstrs(s.Return), s.Cleanup, s.Refusable})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *JobFrame) UnmarshalJSON(p []byte) error {
	var w jobWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = JobFrame{ID: w.ID, Spec: job.Spec{Line: string(w.Line), Argv: w.Argv, Shell: w.Shell,
		ShellCmd: w.ShellCmd, Env: w.Env, Dir: string(w.Dir), Grace: w.Grace,
		Transfer: w.Transfer, Return: w.Return, Cleanup: w.Cleanup, Refusable: w.Refuse}}
	return nil
}

// MarshalJSON encodes f with its error byte for byte.
func (f OutcomeFrame) MarshalJSON() ([]byte, error) {
	o := f.Outcome
	return json.Marshal(outcomeWire{f.ID, o.ExitCode, o.Signal, wstr(errText(o.Err)), o.Start, o.Duration, o.MaxRSSKB, o.User, o.Sys, o.Canceled,
		job.RefusalName(o.Refused), job.Kinds(o.Err)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *OutcomeFrame) UnmarshalJSON(p []byte) error {
	var w outcomeWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = OutcomeFrame{ID: w.ID, Outcome: job.Outcome{ExitCode: w.ExitCode, Signal: w.Signal, Err: job.FromWire(string(w.Error), w.Kinds), Start: w.Start,
		Duration: w.Duration, MaxRSSKB: w.MaxRSSKB, User: w.User, Sys: w.Sys, Canceled: w.Canceled, Refused: job.RefusalErrno(w.Refused)}}
	return nil
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
