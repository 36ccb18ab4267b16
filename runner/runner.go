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

	"github.com/futures-cli/futures/future"
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

func newRun(ctx context.Context, opt Options) (*run, error) {
	if opt.Remote.Enabled() && len(opt.Hosts) == 0 && !opt.DryRun {
		stderr := opt.Stderr
		if stderr == nil {
			stderr = os.Stderr
		}
		hosts, err := opt.Remote.Hosts(ctx, opt.WorkerLoss, stderr)
		if err != nil {
			return nil, err
		}
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
	var err error
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

// exec runs one attempt of a job's command on the worker that ctx belongs
// to.
func (r *run) exec(ctx context.Context, c shell.Command, eo proc.ExecOptions, files *Files) job.Outcome {
	if r.opt.Executor == ProcessExecutor {
		return r.execRemote(ctx, c, eo, files)
	}
	return proc.Exec(ctx, c, eo)
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

// pending is a submitted job on its way to being emitted.
type pending struct {
	job *input.Job
	f   *future.Future[*jobState]
}

// queue carries submitted jobs from the producer to the emitter.
type queue struct {
	ordered   chan pending  // KeepOrder: in submission order
	inputDone chan struct{} // closed when the producer has submitted its last job
	n         int           // jobs submitted; read after inputDone
	slots     chan struct{} // one per job in flight (submitted, not yet emitted)

	mu        sync.Mutex // guards completed
	completed []pending  // not KeepOrder: done futures, in completion order
	ready     chan struct{}
}

// push adds a done future to the completion queue; it never blocks, so it
// is safe in a done callback that runs in any goroutine.
func (q *queue) push(p pending) {
	q.mu.Lock()
	q.completed = append(q.completed, p)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the done futures queued so far.
func (q *queue) pop() []pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	ps := q.completed
	q.completed = nil
	return ps
}

// submitAll starts the producer: it reads src and submits each job while
// fewer than Window jobs are in flight. It returns at once; emit waits for
// the producer (through inputDone) before it returns.
func (r *run) submitAll(src input.Source) *queue {
	q := &queue{inputDone: make(chan struct{}), ready: make(chan struct{}, 1)}
	q.slots = make(chan struct{}, r.opt.Window)
	if r.opt.KeepOrder {
		q.ordered = make(chan pending, r.opt.Window)
	}
	go func() {
		defer func() {
			if r.opt.Observer != nil {
				r.opt.Observer.Total(q.n)
			}
			if q.ordered != nil {
				close(q.ordered)
			}
			close(q.inputDone)
		}()
		for r.ctx.Err() == nil {
			job, ok := r.nextJob(src)
			if !ok {
				return
			}
			select {
			case q.slots <- struct{}{}:
			case <-r.ctx.Done():
				return
			}
			f, err := r.pool.Submit(r.ctx, r.task(job))
			if err != nil {
				<-q.slots
				if errors.Is(err, pool.ErrBroken) {
					r.broken(err)
				}
				return
			}
			q.n++
			p := pending{job: job, f: f}
			if q.ordered != nil {
				q.ordered <- p
			} else {
				f.AddDoneCallback(func(*future.Future[*jobState]) { q.push(p) })
			}
		}
	}()
	return q
}

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

// emit drains q, writing each job's output and record, until the producer
// is done and every submitted job has been emitted. When the run is
// cancelled it cancels the pending futures and still emits their records.
func (r *run) emit(q *queue) {
	cancelled := false
	onCancel := func() {
		if !cancelled {
			cancelled = true
			_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{CancelFutures: true})
		}
	}
	if q.ordered != nil {
		for p := range q.ordered {
			r.waitFuture(p, onCancel)
			<-q.slots
		}
		<-q.inputDone
	} else {
		seen, inputDone, ctxDone := 0, q.inputDone, r.ctx.Done()
		for inputDone != nil || seen < q.n {
			select {
			case <-q.ready:
				for _, p := range q.pop() {
					r.emitOne(p)
					seen++
					<-q.slots
				}
			case <-inputDone:
				inputDone = nil
			case <-ctxDone:
				onCancel()
				ctxDone = nil
			}
		}
	}
	r.sum.Submitted = q.n
	_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true, CancelFutures: r.ctx.Err() != nil})
}

// waitFuture waits for p's future (cancelling the pending ones when the run
// ends) and emits it.
func (r *run) waitFuture(p pending, onCancel func()) {
	if r.ctx.Err() != nil {
		onCancel()
	}
	if !p.f.Done() {
		select {
		case <-p.f.Ready():
		case <-r.ctx.Done():
			onCancel()
			<-p.f.Ready()
		}
	}
	r.emitOne(p)
}

// emitOne writes one finished future's output and record.
func (r *run) emitOne(p pending) *Result {
	js, err := p.f.Result(context.Background())
	var je *jobError
	if errors.As(err, &je) {
		js = je.js
	}
	if js == nil {
		res := &record.Result{Seq: p.job.Seq, Args: p.job.Args, Command: p.job.Text()}
		js = &jobState{res: res}
		switch {
		case errors.Is(err, future.ErrCancelled):
			res.State = future.Cancelled
			res.Error = "cancelled"
			if c := context.Cause(r.ctx); c != nil {
				res.Error = "cancelled: " + c.Error()
			}
		case errors.Is(err, pool.ErrBroken):
			res.State = future.Finished
			res.Error = err.Error()
			res.ExitCode = -1
			r.broken(err)
		default:
			res.State = future.Finished
			res.ExitCode = -1
			if err != nil {
				res.Error = err.Error()
			}
		}
	}
	r.record(js)
	return js.res
}

// record writes a job's output, JSON line, --results record and joblog
// row, and counts it.
func (r *run) record(js *jobState) {
	res := js.res
	if res.Args == nil {
		res.Args = []string{}
	}
	r.sum.Add(res)
	if r.opt.JSON && r.collect {
		// wait: the records are kept, whole, for its sets.
		if js.stdout != nil {
			res.Stdout = js.stdout.String()
		}
		if js.stderr != nil {
			res.Stderr = js.stderr.String()
		}
	} else if r.opt.JSON {
		r.writeJSON(js)
	} else if js.stdout != nil {
		var prefix []byte
		if r.opt.Tag {
			prefix = []byte(strings.Join(res.Args, " ") + "\t")
		}
		_ = r.stdout.WriteGroup(js.stdout, prefix)
		_ = r.stderr.WriteGroup(js.stderr, prefix)
	}
	r.recordResults(js)
	js.close()
	if js.lost != nil && !r.opt.JSON {
		// JSON has it in the record's "error"; plain output must say so.
		fmt.Fprintf(r.stderr, "futures: job %d: output lost: %v\n", res.Seq, js.lost)
	}
	if r.ctx.Err() == nil && (r.stdout.Err() != nil || r.diedOfClosedStdout(res)) {
		r.stdoutFailed()
	}
	// A job the run stopped (a signal, --timeout, --halt now, --fail-fast)
	// did not complete: as GNU parallel, no row, so --resume runs it again.
	if r.joblog != nil && res.Completed() {
		if err := r.joblog.Write(res); err != nil && r.sum.Err == nil {
			r.fault(fmt.Errorf("joblog: %w", err))
		}
	}
	if r.opt.Observer != nil {
		r.opt.Observer.Finished(res, r.sum.Counts())
	}
}

// writeJSON writes a job's JSON line to stdout (--json), its output
// streamed from its spools.
func (r *run) writeJSON(js *jobState) {
	var lost error
	_ = r.stdout.Locked(nil, func(w io.Writer) error {
		var err error
		lost, err = record.WriteJSON(w, js.res, js.stdout, js.stderr)
		return err
	})
	if lost != nil {
		fmt.Fprintf(r.stderr, "futures: %v\n", lost)
	}
}

// stdoutFailed stops the run once stdout cannot be written: quietly when
// its reader went away (EPIPE, as | head -1 does: exit status 141), as a
// fault otherwise (a full disk, a file too large: the output is lost, and
// the run says so and fails).
func (r *run) stdoutFailed() {
	err := r.stdout.Err()
	if err == nil || errors.Is(err, syscall.EPIPE) {
		r.cancel(ErrStdoutClosed)
		return
	}
	r.fault(fmt.Errorf("writing stdout: %w", err))
}

// diedOfClosedStdout reports whether res is a job of --output ungroup
// that died of SIGPIPE writing to the run's stdout, whose reader is gone
// (| head -1): the runner never writes there itself, so this is how it
// learns that stdout is closed.
func (r *run) diedOfClosedStdout(res *Result) bool {
	return r.opt.Output == Ungroup && !r.opt.JSON && res.ExitCode == 128+int(syscall.SIGPIPE) &&
		output.ReaderGone(r.opt.Stdout)
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

// nextJob reads the next job of src that the joblog does not say to skip.
// It returns false at the end of the input, when a read was broken off
// because the run ended (StopInput), or on a fault of the input, which it
// records and which stops the run.
func (r *run) nextJob(src input.Source) (*input.Job, bool) {
	for {
		job, err := src()
		if err == io.EOF || err != nil && r.ctx.Err() != nil {
			return nil, false
		}
		if err != nil {
			r.fault(err)
			return nil, false
		}
		if !r.resume.Skip(job) {
			return job, true
		}
	}
}

// dryRun prints each job's command line and runs nothing.
func (r *run) dryRun(src input.Source) *Summary {
	for r.ctx.Err() == nil {
		job, ok := r.nextJob(src)
		if !ok {
			break
		}
		r.sum.Submitted++
		c, err := job.Command((job.Seq-1)%r.opt.Workers + 1)
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

// task is the pool task that runs job, with retries.
func (r *run) task(job *input.Job) pool.Task[*jobState] {
	// requeued is set when its worker died under --worker-loss requeue
	// and the pool runs this task again; the pool's queue orders the
	// write before the next run's read.
	requeued := false
	return func(ctx context.Context) (*jobState, error) {
		defer job.Release()
		slot := pool.WorkerID(ctx) + 1
		worker := pool.WorkerName(ctx)
		res := &record.Result{Seq: job.Seq, Args: job.Args, Worker: worker, State: future.Finished}
		js := &jobState{res: res}
		if len(r.opt.Hosts) > 0 {
			res.Host = pool.WorkerHost(ctx)
		}
		c, err := job.Command(slot)
		res.Command = c.Line
		var files *Files // the files that travel with it (transfer.go), or nil
		if err == nil {
			files, err = r.files(job, slot)
		}
		if err != nil {
			res.ExitCode = 2
			res.Error = err.Error()
			res.Start = time.Now()
			msg := "futures: " + err.Error() + "\n"
			if r.opt.JSON {
				res.Stderr = msg
			} else {
				_, _ = r.stderr.Write([]byte(msg))
			}
			r.jobEnded(js)
			return nil, &jobError{js}
		}
		env := []string{
			"FUTURES_SEQ=" + strconv.Itoa(job.Seq),
			"FUTURES_SLOT=" + strconv.Itoa(slot),
			"FUTURES_WORKER=" + worker,
		}
		for attempt := 0; ; attempt++ {
			res.Retries = attempt
			if requeued {
				res.Retries++
			}
			r.runAttempt(ctx, job, c, env, files, js)
			if js.workerLost != nil && !requeued && r.opt.WorkerLoss == pool.LossRequeue {
				// --worker-loss requeue: the pool runs this task again, on
				// another worker, once; that counts as a retry.
				requeued = true
				js.close()
				return nil, js.workerLost
			}
			if res.Succeeded() {
				r.jobEnded(js)
				return js, nil
			}
			if attempt >= r.opt.Retries || res.Stop == record.StoppedByRun || r.ctx.Err() != nil || r.halt.stopped() {
				// Judged at completion, not at emission: under --halt now
				// the jobs behind it must not start meanwhile.
				r.jobEnded(js)
				return nil, &jobError{js}
			}
			js.close()
		}
	}
}

// attempt runs c once, filling js and its record.
func (r *run) attempt(ctx context.Context, job *input.Job, c shell.Command, env []string, files *Files, js *jobState) {
	res := js.res
	eo := proc.ExecOptions{Shell: r.opt.Shell, Env: env, Grace: r.opt.Grace, Kill: r.opt.Kill}
	var lw, lwe *output.LineWriter
	switch {
	case r.opt.JSON || r.opt.Output == Group:
		js.stdout = output.NewSpool(r.opt.TempDir, r.budget)
		js.stderr = output.NewSpool(r.opt.TempDir, r.budget)
		eo.Stdout, eo.Stderr = js.stdout, js.stderr
	case r.opt.Output == Line:
		var prefix []byte
		if r.opt.Tag {
			prefix = []byte(strings.Join(job.Args, " ") + "\t")
		}
		lw, lwe = output.NewLineWriter(r.stdout, prefix), output.NewLineWriter(r.stderr, prefix)
		lw.Dir, lwe.Dir = r.opt.TempDir, r.opt.TempDir
		eo.Stdout, eo.Stderr = lw, lwe
	default:
		eo.Stdout, eo.Stderr = r.opt.Stdout, r.opt.Stderr
	}
	if stdin := job.Stdin(); stdin != nil {
		eo.Stdin = stdin
	}
	if r.results != nil {
		eo.Stdout, eo.Stderr = r.teeResults(job, js.stdout != nil, eo.Stdout, eo.Stderr)
	}
	jctx := ctx
	if r.opt.JobTimeout > 0 {
		var cancel context.CancelFunc
		jctx, cancel = context.WithTimeoutCause(ctx, r.opt.JobTimeout, ErrJobTimeout)
		defer cancel()
	}
	out := r.execLimited(jctx, c, eo, files)
	if lw != nil {
		_ = lw.Close()
		_ = lwe.Close()
	}
	res.SetOutcome(out)
	js.workerLost = nil
	if errors.Is(out.Err, pool.ErrWorkerLost) {
		js.workerLost = out.Err
	}
	js.lost = outputLost(out, js, lw, lwe)
	if js.lost != nil && res.Error == "" {
		res.Error = "writing output: " + js.lost.Error()
	}
	if out.Canceled {
		cause := context.Cause(jctx)
		switch {
		case errors.Is(cause, ErrJobTimeout):
			res.Stop = record.StoppedByJobTimeout
		case errors.Is(cause, ErrDeadline):
			res.Stop = record.StoppedByDeadline
		default:
			res.Stop = record.StoppedByRun
		}
		if cause != nil {
			res.Error = "terminated: " + cause.Error()
		}
	}
}

// outputLost returns why some of an attempt's output was dropped: a spool
// that could not be written (TMPDIR missing or full), a process that left
// the job's group and held its output open; nil when all of it came
// through. A closed stdout is not counted: it stops the run quietly.
func outputLost(out job.Outcome, js *jobState, lw, lwe *output.LineWriter) error {
	var errs []error
	if js.stdout != nil {
		errs = append(errs, js.stdout.Err(), js.stderr.Err())
	}
	if lw != nil {
		errs = append(errs, lw.Err(), lwe.Err())
	}
	if errors.Is(out.Err, job.ErrHeldOutput) {
		errs = append(errs, out.Err)
	}
	return errors.Join(errs...)
}
