package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/output"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/record"
	"github.com/futures-cli/futures/runner/shell"
)

// OutputMode says how the output of concurrent jobs is written.
type OutputMode int

const (
	// Group writes a job's output whole when it ends, never mixed with
	// another's (the default).
	Group OutputMode = iota
	// Line writes whole lines as they come; a line is never split.
	Line
	// Ungroup hands the run's stdout and stderr to the jobs as they are.
	Ungroup
)

// ParseOutputMode parses "group", "line" or "ungroup".
func ParseOutputMode(s string) (OutputMode, error) {
	switch s {
	case "group", "":
		return Group, nil
	case "line":
		return Line, nil
	case "ungroup":
		return Ungroup, nil
	}
	return Group, fmt.Errorf("--output %q: want group, line or ungroup", s)
}

// Errors that say why a job or the run was stopped; they are the causes of
// the contexts the runner cancels, and what Result.Error reports.
var (
	// ErrJobTimeout: the job ran longer than --job-timeout.
	ErrJobTimeout = errors.New("job timeout")
	// ErrDeadline: the run's overall --timeout passed.
	ErrDeadline = errors.New("overall timeout")
	// ErrFailFast: another job failed under --fail-fast.
	ErrFailFast = errors.New("stopped by --fail-fast")
	// ErrStdoutClosed: the reader of stdout went away (| head -1).
	ErrStdoutClosed = errors.New("stdout closed")
)

// jobError is the error of the future of a job that failed: as in Python,
// where a call that raises makes its future's exception, a failed job makes
// its future fail, so Wait's FIRST_EXCEPTION sees it. js holds its record.
type jobError struct{ js *jobState }

func (e *jobError) Error() string {
	r := e.js.res
	switch {
	case r.Error != "":
		return fmt.Sprintf("job %d: %s", r.Seq, r.Error)
	case r.Signal != "":
		return fmt.Sprintf("job %d: killed by %s", r.Seq, r.Signal)
	}
	return fmt.Sprintf("job %d: exit status %d", r.Seq, r.ExitCode)
}

// SignalError is the cancellation cause when the runner receives a signal.
type SignalError struct{ Signal syscall.Signal }

func (e SignalError) Error() string { return "interrupted by " + job.SignalName(e.Signal) }

// Observer is told about progress. Finished is called from one goroutine,
// in emission order; Total may be called from another, as soon as the
// input has ended.
type Observer interface {
	// Total is called once, when the input has ended, with the number of
	// jobs submitted.
	Total(n int)
	// Finished is called for each job as its record is emitted, with the
	// run's counts that include it: the ones the Summary ends with, so a
	// progress bar shows what the summary will say.
	Finished(r *Result, c Counts)
}

// Options configure a run. The zero value runs one job per CPU, grouped
// output, in completion order.
type Options struct {
	Workers      int           // 0: runtime.NumCPU(); NoLimit: as many as Window
	Executor     string        // ThreadExecutor ("", "thread") or ProcessExecutor ("process")
	WorkerPrefix string        // "": "worker"
	Initializer  string        // a command line run once per worker before its first job
	KeepOrder    bool          // emit in input order
	Output       OutputMode    // group, line, ungroup
	Tag          bool          // prefix each output line with the job's args and a TAB
	JobTimeout   time.Duration // 0: none
	Timeout      time.Duration // overall deadline; 0: none
	Retries      int           // extra attempts for a failing job
	FailFast     bool          // first failure cancels the rest
	Grace        time.Duration // TERM → KILL
	JSON         bool          // JSON Lines records on Stdout instead of job output
	Joblog       string        // GNU parallel joblog path
	Resume       bool          // skip jobs the joblog records
	ResumeFailed bool          // skip jobs the joblog records as succeeded
	ResumeBy     ResumeBy      // what a job is matched to a joblog row by: Seq (default) or command
	DryRun       bool          // print commands; run none
	Shell        []string      // default /bin/sh -c
	TempDir      string        // spool directory; "": os.TempDir()
	Window       int           // jobs submitted but not yet emitted; 0: a default

	// MaxTasksPerChild, with the process executor, replaces a worker
	// process after that many jobs; 0: never.
	MaxTasksPerChild int
	// Hosts, with the process executor, are the machines its workers run
	// on (-S, --launcher); none: this one. A job's record then names its
	// host.
	Hosts []pool.Host
	// WorkerLoss is --worker-loss: pool.LossBreak (exit 3 when a worker
	// dies) or pool.LossRequeue (its job runs again elsewhere, once).
	WorkerLoss pool.WorkerLoss
	// Remote, when Enabled and Hosts is empty, names the hosts: the run
	// prepares them (RemoteOptions.Hosts) before it starts, and Workers is
	// then the sum of their workers.
	Remote RemoteOptions
	// Transfer, TransferItem, Return and Cleanup, with the process
	// executor only, are the files that travel with each job to its
	// worker and back (transfer.go): Transfer and Return are file-name
	// templates (--transferfile, --return), expanded per job like the
	// command; TransferItem (--transfer) sends the job's item, {} (or the
	// -I string); Cleanup (--cleanup) removes them on the worker after
	// the job.
	Transfer     []string
	TransferItem bool
	Return       []string
	Cleanup      bool

	// Halt is the --halt policy (halt.go); FailFast stands for
	// Halt{When: HaltNow, On: HaltFail, Count: 1}.
	Halt Halt
	// Delay, Load and MemFree hold job starts back (throttle.go): Delay
	// between two starts (--delay), Load the highest load average
	// (--load), MemFree the least available memory in bytes (--memfree).
	// ProcDir is where loadavg and meminfo are read: "" is /proc (a test
	// points it at files of its own).
	Delay   time.Duration
	Load    float64
	MemFree int64
	ProcDir string
	// Results is --results (results.go): a directory, or a .jsonl or
	// .csv file.
	Results string
	// WriteHook, if not nil, is told around each write to Stdout and
	// Stderr (writehook.go): a progress bar clears and redraws itself.
	WriteHook output.WriteHook

	Stdout, Stderr io.Writer
	Observer       Observer
	// Kill, when closed, kills every running job at once (a second Ctrl-C).
	Kill <-chan struct{}
	// StopInput, if not nil, is called once, from a goroutine of its own,
	// when the run ends before its input does (a signal, --timeout,
	// --fail-fast, a closed stdout): it must make a read of the input that
	// waits for more (a terminal, a pipe kept open) return at once, with
	// any error. The Source's errors from then on are not faults. Run
	// returns only after StopInput has returned.
	StopInput func()
	// Slots, if not nil, bounds the jobs running at once beyond Workers:
	// each attempt holds one of its slots while it runs (an attached run,
	// `--service NAME`, shares the slots of an executor service with its
	// other clients).
	Slots Slots
}

// Slots is a shared limit on running jobs: Acquire waits for a free slot
// (or ctx to end, or fails) and returns the function that frees it.
type Slots interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// run is one execution of a Source.
type run struct {
	opt       Options
	start     time.Time
	ctx       context.Context // the run: cancelled by a signal, the deadline, fail-fast, a closed stdout
	cancel    context.CancelCauseFunc
	pool      pool.Executor[*jobState]
	stdout    *output.Output
	stderr    *output.Output
	budget    *output.Budget
	joblog    *record.Joblog
	resume    *record.Resume // --resume, --resume-failed: the jobs to skip; nil: none
	stopTimer context.CancelFunc
	stopInput func() // unregisters Options.StopInput and waits for it if it ran
	collect   bool   // wait: records are returned, not written as JSON lines

	halt     *halter         // --halt, --fail-fast; nil: none
	throttle *throttle       // --delay, --load, --memfree; nil: none
	results  *record.Results // --results; nil: none
	gate     *gate           // the system's limits (limit.go)
	// starting holds a token for each thread-executor task going through
	// its start (attempt.go): the others wait for one before going deep.
	starting chan struct{}

	mu  sync.Mutex // guards sum.Err and sum.Broken, set by the producer and the emitter
	sum Summary
}

// Run reads jobs from src, runs them on a thread pool and emits their
// output and records; it returns when every job is done or cancelled. The
// caller's ctx cancels the run (its cause, a SignalError, sets the
// Summary's Signal).
func Run(ctx context.Context, opt Options, src input.Source) *Summary {
	r, err := newRun(ctx, opt)
	if err != nil {
		return setupSummary(ctx, err)
	}
	defer r.cancel(nil)
	if opt.DryRun {
		return r.dryRun(src)
	}
	r.emit(r.submitAll(r.halt.source(src)))
	return r.finish()
}

func newRun(ctx context.Context, opt Options) (_ *run, err error) {
	if opt.Remote.Enabled() && len(opt.Hosts) == 0 && !opt.DryRun {
		stderr := opt.Stderr
		if stderr == nil {
			stderr = os.Stderr
		}
		hosts, herr := opt.Remote.Hosts(ctx, opt.WorkerLoss, stderr)
		if herr != nil {
			return nil, herr
		}
		// A worker the preparation left running for the pool ends here if
		// there will be no pool (the pool's Shutdown ends it otherwise).
		defer func() {
			if err != nil {
				closeLaunchers(hosts)
			}
		}()
		opt.Hosts, opt.Workers = hosts, 0
		for _, h := range hosts {
			opt.Workers += h.Workers
		}
	}
	if opt.Workers == NoLimit {
		// -j 0: as many at once as the window holds (and the system
		// allows: limit.go).
		if opt.Window <= 0 {
			opt.Window = noLimitWindow
		}
		opt.Workers = opt.Window
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.WorkerPrefix == "" {
		opt.WorkerPrefix = "worker"
	}
	if len(opt.Shell) == 0 {
		opt.Shell = []string{"/bin/sh", "-c"}
	}
	if opt.Window <= 0 {
		opt.Window = 64 + 8*opt.Workers
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if err := checkFiles(&opt); err != nil {
		return nil, err
	}
	r := &run{opt: opt, start: time.Now()}
	r.sum.ExitCodes = map[int]int{}
	r.stdout = output.NewOutput(output.WithHook(opt.Stdout, opt.WriteHook))
	r.stderr = output.NewOutput(output.WithHook(opt.Stderr, opt.WriteHook))
	r.budget = output.NewBudget(16 << 20)
	r.gate = newGate(r.stderr)
	r.starting = make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))
	if opt.Joblog != "" && (opt.Resume || opt.ResumeFailed) {
		if r.resume, err = record.ReadResume(opt.Joblog, !opt.Resume, opt.ResumeBy, opt.Workers); err != nil {
			return nil, err
		}
	}
	if opt.Joblog != "" && !opt.DryRun { // a dry run changes no file
		jl, err := record.CreateJoblog(opt.Joblog, opt.Resume || opt.ResumeFailed)
		if err != nil {
			return nil, err
		}
		r.joblog = jl
	}
	if err := r.setupControls(&opt); err != nil {
		return nil, err
	}
	ctx, r.cancel = context.WithCancelCause(ctx)
	if opt.Timeout > 0 {
		ctx, r.stopTimer = context.WithTimeoutCause(ctx, opt.Timeout, ErrDeadline)
	}
	r.ctx = ctx
	r.stopInput = func() {}
	if opt.StopInput != nil {
		ran := make(chan struct{})
		unregister := context.AfterFunc(ctx, func() {
			defer close(ran)
			opt.StopInput()
		})
		r.stopInput = func() {
			if !unregister() {
				<-ran
			}
		}
	}
	r.pool = r.newExecutor()
	return r, nil
}

// newExecutor makes the executor the options ask for.
func (r *run) newExecutor() pool.Executor[*jobState] {
	if r.opt.Executor == ProcessExecutor {
		return r.newProcessPool()
	}
	return pool.NewThreadPool[*jobState](pool.Options{
		MaxWorkers:  r.opt.Workers,
		NamePrefix:  r.opt.WorkerPrefix,
		Initializer: r.initializer(),
	})
}

// initializer runs the --initializer command once in each worker.
func (r *run) initializer() func(context.Context) error {
	if r.opt.Initializer == "" {
		return nil
	}
	return func(ctx context.Context) error {
		c, err := shell.ParseLine(r.opt.Initializer)
		if err != nil {
			return fmt.Errorf("initializer: %w", err)
		}
		var errb limitedBuffer
		out := proc.Exec(r.ctx, c, proc.ExecOptions{Shell: r.opt.Shell, Stdout: io.Discard, Stderr: &errb, Grace: r.opt.Grace, Kill: r.opt.Kill,
			Env: []string{"FUTURES_WORKER=" + pool.WorkerName(ctx), "FUTURES_SLOT=" + strconv.Itoa(pool.WorkerID(ctx)+1)}})
		if out.Err != nil || out.ExitCode != 0 {
			msg := strings.TrimSpace(errb.String())
			if msg == "" && out.Err != nil {
				msg = out.Err.Error()
			}
			if msg == "" {
				return fmt.Errorf("%q exited %d", r.opt.Initializer, out.ExitCode)
			}
			return fmt.Errorf("%q exited %d: %s", r.opt.Initializer, out.ExitCode, msg)
		}
		return nil
	}
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if n := 4096 - len(l.b); n > 0 {
		l.b = append(l.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
func (l *limitedBuffer) String() string { return string(l.b) }

// fault records a fault of the runner and stops the run.
func (r *run) fault(err error) {
	fmt.Fprintf(r.stderr, "futures: %v\n", err)
	r.mu.Lock()
	if r.sum.Err == nil {
		r.sum.Err = err
	}
	r.mu.Unlock()
	r.cancel(err)
}

// broken records that the pool broke and stops the run.
func (r *run) broken(err error) {
	r.mu.Lock()
	if r.sum.Broken == nil {
		r.sum.Broken = err
	}
	r.mu.Unlock()
	r.cancel(err)
}

// finish closes what the run opened and fills in the summary.
func (r *run) finish() *Summary {
	if r.stopTimer != nil {
		defer r.stopTimer()
	}
	r.stopInput()
	r.closeControls()
	if r.joblog != nil {
		if err := r.joblog.Close(); err != nil && r.sum.Err == nil {
			r.sum.Err = fmt.Errorf("joblog: %w", err)
		}
	}
	r.sum.Wall = time.Since(r.start)
	cause := context.Cause(r.ctx)
	var se SignalError
	switch {
	case errors.As(cause, &se):
		r.sum.Signal = se.Signal
	case errors.Is(cause, ErrDeadline):
		r.sum.Deadline = true
	case errors.Is(cause, ErrStdoutClosed):
		r.sum.Signal = syscall.SIGPIPE
	}
	return &r.sum
}

// dryRun prints each job's command line and runs nothing.
func (r *run) dryRun(src input.Source) *Summary {
	for r.ctx.Err() == nil {
		job, ok := r.nextJob(src)
		if !ok {
			break
		}
		r.sum.Submitted++
		c, err := job.Command(r.dryRunSlot(job))
		if err != nil {
			fmt.Fprintf(r.stderr, "futures: %v\n", err)
			r.sum.Failed++
			continue
		}
		fmt.Fprintf(r.stdout, "%s\n", c.Line)
		if r.stdout.Err() != nil {
			r.stdoutFailed()
		}
	}
	return r.finish()
}

// dryRunSlot is the worker slot that a job's command is made for when it
// runs on none: in a dry run, and in the record of a job that reached no
// worker. The jobs take the slots in turn.
func (r *run) dryRunSlot(job *input.Job) int { return (job.Seq-1)%r.opt.Workers + 1 }

// setupSummary is the Summary of a run that could not start because of
// err: stopped by a signal while it prepared its hosts (exit 128+N), hosts
// that cannot run workers (exit 3, as a broken pool), or a usage error.
func setupSummary(ctx context.Context, err error) *Summary {
	var sig SignalError
	switch {
	case errors.As(context.Cause(ctx), &sig):
		return &Summary{Signal: sig.Signal}
	case errors.Is(err, pool.ErrBroken):
		return &Summary{Broken: err}
	}
	return &Summary{Err: SetupError{Err: err}}
}

// closeLaunchers closes the launchers of hosts that are io.Closers: the
// workers RemoteOptions.Hosts left running that no pool will take.
func closeLaunchers(hosts []pool.Host) {
	for _, h := range hosts {
		if c, ok := h.Launcher.(io.Closer); ok {
			_ = c.Close()
		}
	}
}
