// Package job is the vocabulary of one job shared by the runner and the
// pool: what to run (Spec) and how it ended (Outcome), from the process
// that ran it, over the worker protocol, to the runner's records.
package job

import (
	"errors"
	"syscall"
	"time"
)

// Spec is a job as a process runs it: a command and how to start it. The
// process executor sends it to a worker process in a Job frame.
type Spec struct {
	// Line is the command line, as the user wrote it.
	Line string
	// Argv is the program and its arguments when Shell is false.
	Argv []string
	// Shell is true when Line runs as ShellCmd... Line.
	Shell bool
	// ShellCmd is the shell and its options (/bin/sh -c); empty: /bin/sh -c.
	ShellCmd []string
	// Env holds KEY=VALUE entries added to the environment (FUTURES_SEQ,
	// …), replacing entries of the same key.
	Env []string
	// Dir is the job's working directory; "" is the worker's (the one its
	// initializer left).
	Dir string
	// Grace is the time between TERM and KILL when the job is cancelled.
	Grace time.Duration

	// Transfer are files the runner sends to the worker before the job
	// runs (--transferfile), named as on the runner's side; Return, files
	// the worker sends back after it (--return). Both are placed by the
	// rules of pool.WorkerPath. Cleanup asks the worker to remove the
	// files it received and sent back once the job is over (--cleanup).
	Transfer []string
	Return   []string
	Cleanup  bool

	// Refusable asks for a job that the system refused to start for lack
	// of a resource (too many open files or processes) to be reported in
	// Outcome.Refused, having written nothing, rather than failed: the
	// runner starts it again once another job has ended.
	Refusable bool

	// Environ is set by the worker, never sent: the whole environment its
	// initializer left, to which Env is added; nil means the worker's own.
	Environ []string
}

// Outcome is how one job ended: what runner/proc's Exec returns, what a
// worker sends back over the wire, and what the runner records.
type Outcome struct {
	// ExitCode is the job's exit status; 128+N when a signal N killed it, as
	// a shell reports it; 127 when its program was not found, 126 when it
	// could not be executed; -1 when it was not started.
	ExitCode int
	// Signal is the name of the signal that killed the job ("SIGKILL"), or
	// "".
	Signal string
	// Err is a failure to start the job (wrapping ErrNotFound,
	// ErrNotExecutable or the system's error), or a failure to pass its
	// output on ("writing output: …", ErrHeldOutput). It is nil when the
	// job ran and its output was delivered, whatever its exit code. An
	// error that came over the wire keeps its text and the sentinels of
	// this package it matched (see Kinds).
	Err error
	// Start is when the job was started.
	Start time.Time
	// Duration runs from Start to the exit of the job's main process.
	Duration time.Duration
	// MaxRSSKB is the job's peak resident set size in KiB, User and Sys
	// its CPU times (rusage of the main process and the children it waited
	// for).
	MaxRSSKB  int64
	User, Sys time.Duration
	// Canceled is true when the job was asked to stop while it ran.
	Canceled bool
	// Sent and Received are the bytes of the job's Transfer files sent to
	// its worker and of its Return files brought back (the process
	// executor counts them on the runner's side; they are not sent).
	Sent, Received int64
	// Refused, for a Refusable Spec, is the errno with which the system
	// refused to start the job (EMFILE, ENFILE, EAGAIN); the job did not
	// run and wrote nothing, ExitCode is -1 and Err says why. 0 otherwise.
	Refused syscall.Errno
}

// ErrNotFound is wrapped by Outcome.Err when a job's program does not exist
// (exit code 127, as a shell reports it).
var ErrNotFound = errors.New("command not found")

// ErrNotExecutable is wrapped by Outcome.Err when a job's program exists but
// cannot be executed: no permission, a directory, a file in no known format
// (exit code 126, as a shell reports it).
var ErrNotExecutable = errors.New("cannot execute")

// ErrHeldOutput is wrapped by Outcome.Err when a process that left the
// job's process group (setsid) still held the job's output open after the
// job ended, and reading it stopped: some output may be lost.
var ErrHeldOutput = errors.New("a process that left the job's process group still holds its output")

// kinds are the sentinels an error keeps over the wire, by the name it
// travels under.
var kinds = []struct {
	name string
	err  error
}{
	{"not_found", ErrNotFound},
	{"not_executable", ErrNotExecutable},
	{"held_output", ErrHeldOutput},
}

// Kinds returns the names of the sentinels of this package that err
// matches (errors.Is), in a fixed order, for the wire; nil for none.
func Kinds(err error) []string {
	if err == nil {
		return nil
	}
	var names []string
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			names = append(names, k.name)
		}
	}
	return names
}

// FromWire returns the error that came over the wire as msg and the
// Kinds names: its text is msg, and errors.Is matches the sentinels named
// (names it does not know are ignored). It returns nil when msg is "".
func FromWire(msg string, names []string) error {
	if msg == "" {
		return nil
	}
	e := &wireError{msg: msg}
	for _, n := range names {
		for _, k := range kinds {
			if k.name == n {
				e.kinds = append(e.kinds, k.err)
			}
		}
	}
	return e
}

// wireError is an error that crossed the wire.
type wireError struct {
	msg   string
	kinds []error // the sentinels it matches
}

func (e *wireError) Error() string   { return e.msg }
func (e *wireError) Unwrap() []error { return e.kinds }

// refusals are the errnos with which the system refuses a resource, by
// the name they travel under.
var refusals = []struct {
	errno syscall.Errno
	name  string
}{
	{syscall.EMFILE, "EMFILE"},
	{syscall.ENFILE, "ENFILE"},
	{syscall.EAGAIN, "EAGAIN"},
}

// RefusalName is the name of errno, one of the errnos of Outcome.Refused
// ("EMFILE"); "" for any other.
func RefusalName(errno syscall.Errno) string {
	for _, r := range refusals {
		if r.errno == errno {
			return r.name
		}
	}
	return ""
}

// RefusalErrno is the errno that RefusalName names, or 0.
func RefusalErrno(name string) syscall.Errno {
	for _, r := range refusals {
		if r.name == name {
			return r.errno
		}
	}
	return 0
}
