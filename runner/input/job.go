// Package input reads the items of a run (files, stdin, ::: groups) and
// makes its jobs: records, fields, CSV, zip/product, --pipe blocks, sources.
package input

import (
	"fmt"
	"io"
	"strings"

	"github.com/futures-cli/futures/runner/shell"
	"github.com/futures-cli/futures/runner/template"
)

// NoLimit is the number of workers of -j 0: no limit of its own (the
// run's window, and the system, bound it).
const NoLimit = -1

// Job is one unit of work: a command line (submit) or a template applied to
// input records (map).
type Job struct {
	Seq  int      // from 1, in input order
	Args []string // the input item(s): the line (submit) or the values (map)
	Line int      // where in the input it came from, for error messages

	input string // the name of that input (Pos.Name)

	line string             // submit: the command line
	tmpl *template.Template // map: the template
	recs [][]string
	err  error // a fault found while reading it

	stdin *block // --pipe: the job's standard input, a block of the input (pipe.go)
}

// NewJob returns job seq of the template t over the records recs, as
// MapSource makes it: its Args are the values of recs, in order.
func NewJob(seq int, t *template.Template, recs [][]string) *Job {
	j := &Job{Seq: seq, tmpl: t, recs: recs}
	for _, r := range recs {
		j.Args = append(j.Args, r...)
	}
	return j
}

// NewLineJob returns job seq whose command is line, as SubmitSource makes
// it: its Args are the line.
func NewLineJob(seq int, line string) *Job {
	return &Job{Seq: seq, Args: []string{line}, line: line}
}

// Text is the command line of a submit job as it was read; "" for a job
// of a template.
func (j *Job) Text() string { return j.line }

// Template is the template of a map job; nil for a submit job.
func (j *Job) Template() *template.Template { return j.tmpl }

// Records are the input records a map job's template is expanded with.
func (j *Job) Records() [][]string { return j.recs }

// Stdin returns a new reader of the job's standard input, its block of the
// input under --pipe (each attempt reads it from the start); nil when the
// job has none.
func (j *Job) Stdin() io.Reader {
	if j.stdin == nil {
		return nil
	}
	return j.stdin.reader()
}

// Release frees the job's --pipe block (its buffer or temporary file) once
// the job will run no more. It is safe on a job without one.
func (j *Job) Release() { j.stdin.release() }

// Command builds the job's command for the worker slot (from 1).
func (j *Job) Command(slot int) (shell.Command, error) {
	if j.err != nil {
		return shell.Command{Line: j.line}, j.err
	}
	if j.tmpl != nil {
		c, err := j.tmpl.Expand(template.Vars{Records: j.recs, Seq: j.Seq, Slot: slot})
		if err != nil {
			return c, fmt.Errorf("%s: %w", Pos{j.input, j.Line}, err)
		}
		return c, nil
	}
	c, err := shell.ParseLine(j.line)
	if err != nil {
		return shell.Command{Line: j.line}, fmt.Errorf("%s: %w", Pos{j.input, j.Line}, err)
	}
	return c, nil
}

// Source yields jobs one at a time; io.EOF ends it. An error other than
// io.EOF is a fault of the input (an unreadable file) and ends the run.
type Source func() (*Job, error)

// SubmitOptions say how SubmitSource makes jobs of command lines.
type SubmitOptions struct {
	// Limits bound every job's command: a line whose command is over
	// them fails its own job. Zero: SystemArgLimits().
	Limits shell.ArgLimits
	// Shell is what a command line that needs a shell runs under
	// (Options.Shell), counted in its size; nil: /bin/sh -c.
	Shell []string
}

// SubmitSource makes a job of each item of r: each is a command line. An
// item of only blanks (spaces, tabs, CRs, newlines) is skipped, as an empty
// one is: there is no command in it. A line that cannot be run fails in a
// job of its own, with a message naming its line ("stdin:2: …"), and the
// others run: one that does not parse, and one whose command is over
// o.Limits ("argument list too long": the kernel would refuse to start
// it), as MapSource's records are measured.
func SubmitSource(r *Reader, o SubmitOptions) Source {
	if o.Limits == (shell.ArgLimits{}) {
		o.Limits = shell.SystemArgLimits()
	}
	if len(o.Shell) == 0 {
		o.Shell = shell.DefaultShell
	}
	seq := 0
	return func() (*Job, error) {
		item, line, err := r.Next()
		for err == nil && strings.Trim(item, " \t\r\n") == "" {
			item, line, err = r.Next()
		}
		if err != nil {
			return nil, err
		}
		seq++
		j := NewLineJob(seq, item)
		j.Line, j.input = line, r.Name()
		c, err := shell.ParseLine(item)
		if err == nil {
			_, _, err = o.Limits.Measure(c, o.Shell)
		}
		if err != nil {
			j.err = fmt.Errorf("%s: %w", Pos{j.input, j.Line}, err)
		}
		return j, nil
	}
}
