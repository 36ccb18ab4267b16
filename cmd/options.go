package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
)

// usageError is a bad flag, FILE or template: exit 2, nothing runs.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitStatus is returned by a command to make Main exit with that status
// without printing anything more.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// commonFlags are the flags that submit, map and wait share.
type commonFlags struct {
	jobs         string
	executor     string
	maxTasks     int
	workerPrefix string
	initializer  string
	keepOrder    bool
	output       string
	tag          bool
	jobTimeout   time.Duration
	timeout      time.Duration
	retries      int
	failFast     bool
	grace        time.Duration
	progress     string
	json         bool
	joblog       string
	resume       bool
	resumeFailed bool
	resumeBy     string
	dryRun       bool
	quiet        bool
	null         bool
	delimiter    string
	shell        string
	controls     controlFlags  // --halt, --delay, --load, --memfree, --results (controls.go)
	aliases      aliasFlags    // -P/--jobs, --line-buffer, --group, -u, --bar, --eta (aliases.go)
	remote       remoteFlags   // -S, --sshloginfile, --ssh, --launcher, --worker-loss… (remote.go)
	files        transferFlags // --transferfile, --transfer, --return, --cleanup, --trc (transfer.go)
	svc          serviceFlags  // --detach, --service (detach.go)
	report       reportFlag    // --report (report.go)
}

func (c *commonFlags) register(fs *pflag.FlagSet, keepOrderDefault bool) {
	fs.StringVarP(&c.jobs, "max-workers", "j", "", "workers: N, N% of the CPUs, cpu (CPUs+1), io (5×CPUs) or 0 (no limit); default: the number of CPUs")
	fs.StringVar(&c.executor, "executor", "thread", "executor: thread (goroutines) or process (long-lived worker processes: a stateful --initializer, --max-tasks-per-child)")
	fs.IntVar(&c.maxTasks, "max-tasks-per-child", 0, "process executor: replace a worker process (and rerun --initializer) after N jobs; 0: never")
	fs.StringVar(&c.workerPrefix, "worker-prefix", "worker", "worker names are PREFIX_N, N from 0")
	fs.StringVar(&c.initializer, "initializer", "", "command run once per worker before its first job; its failure breaks the pool (exit 3)")
	fs.BoolVarP(&c.keepOrder, "keep-order", "k", keepOrderDefault, "emit results in input order")
	fs.StringVar(&c.output, "output", "group", "output mode: group (a job's output whole), line (whole lines as they come) or ungroup")
	fs.BoolVar(&c.tag, "tag", false, "prefix each output line with the job's item(s) and a TAB")
	durationVar(fs, &c.jobTimeout, "job-timeout", 0, "terminate a job after this long (TERM, KILL after --grace)")
	durationVar(fs, &c.timeout, "timeout", 0, "overall deadline: then pending jobs are cancelled and running ones terminated (exit 4); unlike GNU parallel's --timeout, which is per job")
	fs.IntVar(&c.retries, "retries", 0, "run a failing job up to N more times")
	fs.BoolVar(&c.failFast, "fail-fast", false, "on the first failed job, cancel the pending ones and terminate the running ones")
	durationVar(fs, &c.grace, "grace", 5*time.Second, "time between TERM and KILL")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fs.BoolVar(&c.json, "json", false, "JSON Lines on stdout: one record per finished job, its output inside")
	fs.StringVar(&c.joblog, "joblog", "", "write a joblog in GNU parallel's format to FILE")
	fs.BoolVar(&c.resume, "resume", false, "with --joblog: skip the jobs it records")
	fs.BoolVar(&c.resumeFailed, "resume-failed", false, "with --joblog: skip the jobs it records as succeeded; run the failed ones again")
	fs.StringVar(&c.resumeBy, "resume-by", "seq", "what --resume and --resume-failed match jobs to joblog rows by: seq (the job number, as GNU parallel) or command (the command line, as rush -c)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print each command that would run; run none")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "no summary line")
	fs.BoolVarP(&c.null, "null", "0", false, "input items are separated by NUL bytes")
	fs.StringVarP(&c.delimiter, "delimiter", "d", "", "input items are separated by this byte (\\n, \\t, \\0, \\xHH)")
	fs.StringVar(&c.shell, "shell", "/bin/sh", "shell for command lines that need one (pipes, redirections, $VAR…); run as SHELL -c LINE")
	c.controls.register(fs)
	c.aliases.register(fs, c)
	c.remote.register(fs)
	c.files.register(fs)
	c.svc.register(fs)
	c.report.register(fs)
}

// runnerOptions checks the flags and turns them into runner.Options, over
// f's streams; it settles the aliases (--line-buffer, --bar…) and the
// executor that remote flags imply in c first.
func (c *commonFlags) runnerOptions(f *factory) (runner.Options, error) {
	var o runner.Options
	if err := c.aliases.apply(c); err != nil {
		return o, err
	}
	if err := c.remote.executor(c); err != nil {
		return o, err
	}
	n, err := runner.ParseWorkers(c.jobs, f.numCPU())
	if err != nil {
		return o, usageError{err}
	}
	if err := executorChoice.check(c.executor); err != nil {
		return o, err
	}
	if c.maxTasks < 0 {
		return o, usagef("--max-tasks-per-child %d: want 0 (no limit) or more", c.maxTasks)
	}
	if c.maxTasks > 0 && c.executor != runner.ProcessExecutor {
		return o, usagef("--max-tasks-per-child needs --executor process")
	}
	if err := outputChoice.check(c.output); err != nil {
		return o, err
	}
	mode, err := runner.ParseOutputMode(c.output)
	if err != nil {
		return o, usageError{err}
	}
	if err := progressChoice.check(c.progress); err != nil {
		return o, err
	}
	if (c.resume || c.resumeFailed) && c.joblog == "" {
		return o, usagef("--resume and --resume-failed need --joblog FILE")
	}
	if err := resumeByChoice.check(c.resumeBy); err != nil {
		return o, err
	}
	resumeBy, err := runner.ParseResumeBy(c.resumeBy)
	if err != nil {
		return o, usageError{err}
	}
	if resumeBy != runner.ResumeBySeq && !c.resume && !c.resumeFailed {
		return o, usagef("--resume-by needs --resume or --resume-failed")
	}
	if c.retries < 0 {
		return o, usagef("--retries %d: want 0 or more", c.retries)
	}
	shell := []string{c.shell, "-c"}
	if c.shell == "" {
		return o, usagef("--shell: empty")
	}
	o = runner.Options{
		Workers: n, Executor: c.executor, MaxTasksPerChild: c.maxTasks,
		WorkerPrefix: c.workerPrefix, Initializer: c.initializer,
		KeepOrder: c.keepOrder, Output: mode, Tag: c.tag,
		JobTimeout: c.jobTimeout, Timeout: c.timeout, Retries: c.retries, FailFast: c.failFast,
		Grace: c.grace, JSON: c.json, Joblog: c.joblog, Resume: c.resume, ResumeFailed: c.resumeFailed,
		ResumeBy: resumeBy,
		DryRun:   c.dryRun, Shell: shell, Stdout: f.stdout, Stderr: f.stderr,
	}
	if err := c.remote.apply(&o, c.jobs); err != nil {
		return o, err
	}
	if err := c.controls.apply(&o, f); err != nil {
		return o, err
	}
	return o, c.files.apply(&o)
}

// delim is the input item separator the flags ask for.
func (c *commonFlags) delim() (byte, error) {
	switch {
	case c.null && c.delimiter != "":
		return 0, usagef("-0 and -d: choose one")
	case c.null:
		return 0, nil
	case c.delimiter != "":
		d, err := input.ParseDelimiter(c.delimiter)
		if err != nil {
			return 0, usageError{err}
		}
		return d, nil
	}
	return '\n', nil
}

// checkOutputs refuses a run whose output files (--joblog, a --results
// file) are one of its inputs: those that files has opened, and the
// --sshloginfile.
func checkOutputs(opt runner.Options, files *input.Files) error {
	outs := []input.Output{{Flag: "--joblog", Name: opt.Joblog}, {Flag: "--results", Name: opt.Results}}
	if err := files.CheckOutputs(outs, opt.Remote.LoginFile); err != nil {
		return usageError{err}
	}
	return nil
}
