package runner

import (
	"context"
	"errors"
	"runtime/debug"
	"strconv"
	"strings"
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

// Running one job: the task a worker runs (task), each attempt of it once
// --halt, --delay, --load and --memfree let it start (runAttempt), and the
// attempt itself (attempt → execLimited → exec → proc.Start or execRemote).
//
// Each step takes a continuation (k): what to do once the attempt has
// ended. What comes before a job starts (waiting for --load, --memfree,
// a slot, the gate) blocks the goroutine that starts it; what comes after
// runs when the job has ended. With the thread executor, a job's end comes
// on a goroutine of proc.Start's, and the task has returned meanwhile
// (pool.Later): a running job holds no goroutine. With the process
// executor (execRemote) each step calls its continuation before it
// returns, and the task waits for its own end.

// task is the pool task that runs job, with retries.
func (r *run) task(job *input.Job) pool.Task[*jobState] {
	// requeued is set when its worker died under --worker-loss requeue
	// and the pool runs this task again; the pool's queue orders the
	// write before the next run's read.
	requeued := false
	return func(ctx context.Context) (*jobState, error) {
		if settle, ok := pool.Later[*jobState](ctx); ok {
			// A few tasks at a time go through their start (the waits
			// before it, the fork): the others wait here, on a small
			// stack, not deep in the start on a grown one. At -j1000 a
			// thousand jobs end at once and as many tasks start: each
			// waiting its turn for the fork (syscall.ForkLock) held an
			// 8 KiB stack, as many as the waiting goroutines this design
			// removes (docs/performance.md, "Memory").
			r.starting <- struct{}{}
			defer func() { <-r.starting }() // a panic gives it back too
			ctx = context.WithValue(ctx, settleKey{}, settle)
			r.runTask(ctx, job, &requeued, settle)
			return nil, nil
		}
		type result struct {
			js  *jobState
			err error
		}
		ch := make(chan result, 1)
		ctx = context.WithValue(ctx, turnsKey{}, &turns{})
		r.runTask(ctx, job, &requeued, func(js *jobState, err error) { ch <- result{js, err} })
		res := <-ch
		return res.js, res.err
	}
}

// runTask runs job, with retries, and calls k with the task's result once
// it has ended.
func (r *run) runTask(ctx context.Context, job *input.Job, requeued *bool, k func(*jobState, error)) {
	done := func(js *jobState, err error) {
		job.Release()
		k(js, err)
	}
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
		done(nil, &jobError{js})
		return
	}
	env := []string{
		"FUTURES_SEQ=" + strconv.Itoa(job.Seq),
		"FUTURES_SLOT=" + strconv.Itoa(slot),
		"FUTURES_WORKER=" + worker,
	}
	r.attempts(ctx, job, c, env, files, js, requeued, 0, done)
}

// attempts runs attempt number n of job and, as long as it fails and
// --retries allow, the next ones; then it calls done with the task's
// result.
func (r *run) attempts(ctx context.Context, job *input.Job, c shell.Command, env []string, files *Files, js *jobState, requeued *bool, n int, done func(*jobState, error)) {
	res := js.res
	res.Retries = n
	if *requeued {
		res.Retries++
	}
	r.runAttempt(ctx, job, c, env, files, js, func() {
		if js.panicked != nil {
			js.close()
			done(nil, js.panicked)
			return
		}
		if js.workerLost != nil && !*requeued && r.opt.WorkerLoss == pool.LossRequeue {
			// --worker-loss requeue: the pool runs this task again, on
			// another worker, once; that counts as a retry.
			*requeued = true
			js.close()
			done(nil, js.workerLost)
			return
		}
		if res.Succeeded() {
			r.jobEnded(js)
			done(js, nil)
			return
		}
		if n >= r.opt.Retries || res.Stop == record.StoppedByRun || r.ctx.Err() != nil || r.halt.stopped() {
			// Judged at completion, not at emission: under --halt now
			// the jobs behind it must not start meanwhile.
			r.jobEnded(js)
			done(nil, &jobError{js})
			return
		}
		js.close()
		r.attempts(ctx, job, c, env, files, js, requeued, n+1, done)
	})
}

// attempt runs c once, filling js and its record, then calls k.
func (r *run) attempt(ctx context.Context, jb *input.Job, c shell.Command, env []string, files *Files, js *jobState, k func()) {
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
			prefix = []byte(strings.Join(jb.Args, " ") + "\t")
		}
		lw, lwe = output.NewLineWriter(r.stdout, prefix), output.NewLineWriter(r.stderr, prefix)
		lw.Dir, lwe.Dir = r.opt.TempDir, r.opt.TempDir
		eo.Stdout, eo.Stderr = lw, lwe
	default:
		eo.Stdout, eo.Stderr = r.opt.Stdout, r.opt.Stderr
	}
	if stdin := jb.Stdin(); stdin != nil {
		eo.Stdin = stdin
	}
	if r.results != nil {
		eo.Stdout, eo.Stderr = r.teeResults(jb, js.stdout != nil, eo.Stdout, eo.Stderr)
	}
	jctx, cancel := ctx, context.CancelFunc(func() {})
	if r.opt.JobTimeout > 0 {
		jctx, cancel = context.WithTimeoutCause(ctx, r.opt.JobTimeout, ErrJobTimeout)
	}
	r.execLimited(jctx, c, eo, files, func(out job.Outcome) {
		// A panic in taking the outcome in fails the task, as a panic in
		// a task does; k is called either way, so that the steps before
		// it give back what they hold (a slot of opt.Slots, the
		// throttle's).
		js.panicked = recovered(func() {
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
		})
		cancel()
		k()
	})
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

// exec runs one attempt of a job's command on the worker that ctx belongs
// to, and calls k with its outcome: from a goroutine of proc.Start's with
// the thread executor, before it returns with the process executor.
func (r *run) exec(ctx context.Context, c shell.Command, eo proc.ExecOptions, files *Files, k func(job.Outcome)) {
	if r.opt.Executor == ProcessExecutor {
		out := r.execRemote(ctx, c, eo, files)
		inTurn(ctx, func() { k(out) })
		return
	}
	proc.Start(ctx, c, eo, func(out job.Outcome) { goOn(ctx, func() { k(out) }) })
}

// settleKey is the context key of the settle of a task that goes on
// without its worker's goroutine (pool.Later).
type settleKey struct{}

// goOn runs f, the rest of a task after its job has ended, on a goroutine
// of proc.Start's. A panic in it settles the task's future with a
// *pool.PanicError, as a panic in a task does (the job's record says so,
// and the run goes on), instead of ending the process.
func goOn(ctx context.Context, f func()) {
	settle, ok := ctx.Value(settleKey{}).(func(*jobState, error))
	if !ok {
		f()
		return
	}
	if err := recovered(f); err != nil {
		settle(nil, err)
	}
}

// recovered calls f and returns its panic as a *pool.PanicError, or nil.
func recovered(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &pool.PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}

// turns are the continuations of a task whose attempts end before the
// calls that start them return (the process executor), taken in turn:
// called from each other, a retry, a restart after --memfree or a start
// the system refused would nest a dozen frames an attempt, and a task
// with many would grow its stack without bound. Each call that ends an
// attempt (exec) is a tail call in the steps that lead to it, so running
// its continuation after they have returned changes nothing but the
// stack. Only the task's goroutine uses them.
type turns struct {
	running bool   // a call of inTurn runs continuations
	next    func() // the continuation to run next, or nil
}

// turnsKey is the context key of a task's *turns.
type turnsKey struct{}

// inTurn runs f, the continuation of an attempt that has ended: at once
// when ctx has no turns (a continuation on a goroutine of its own), or
// when no continuation runs yet; else once the one that runs, which
// called this, has returned.
func inTurn(ctx context.Context, f func()) {
	t, _ := ctx.Value(turnsKey{}).(*turns)
	switch {
	case t == nil:
		f()
	case t.running:
		t.next = f
	default:
		t.running = true
		for f != nil {
			f()
			f, t.next = t.next, nil
		}
		t.running = false
	}
}

// runAttempt runs one attempt of job's command once the run lets it start:
// not once --halt has stopped the run, and when --delay, --load and
// --memfree allow; then it calls k. An attempt that --memfree terminated
// is started again; it does not count as a retry. When the attempt cannot
// start (the run halted or ended while it waited) and none has run
// before, its record says that the job was cancelled.
func (r *run) runAttempt(ctx context.Context, job *input.Job, c shell.Command, env []string, files *Files, js *jobState, k func()) {
	res := js.res
	if r.halt.stopped() {
		notStarted(res, r.halt.cause)
		k()
		return
	}
	if r.throttle == nil {
		r.slotAttempt(ctx, job, c, env, files, js, k)
		return
	}
	actx, s, err := r.throttle.start(ctx)
	if err != nil {
		notStarted(res, err)
		k()
		return
	}
	if r.halt.stopped() {
		r.throttle.end(s)
		notStarted(res, r.halt.cause)
		k()
		return
	}
	r.slotAttempt(actx, job, c, env, files, js, func() {
		if !r.throttle.end(s) || js.panicked != nil || ctx.Err() != nil || r.halt.stopped() {
			k()
			return
		}
		js.close()
		r.runAttempt(ctx, job, c, env, files, js, k)
	})
}

// slotAttempt runs attempt holding one of opt.Slots, when they are set,
// then calls k.
func (r *run) slotAttempt(ctx context.Context, job *input.Job, c shell.Command, env []string, files *Files, js *jobState, k func()) {
	if r.opt.Slots == nil {
		r.attempt(ctx, job, c, env, files, js, k)
		return
	}
	release, err := r.opt.Slots.Acquire(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.fault(err)
		}
		notStarted(js.res, err)
		k()
		return
	}
	r.attempt(ctx, job, c, env, files, js, func() {
		release()
		k()
	})
}

// notStarted marks res, a job none of whose attempts has run, cancelled
// because of cause.
func notStarted(res *record.Result, cause error) {
	if res.Started {
		return
	}
	res.State = future.Cancelled
	res.Stop = record.StoppedByRun
	res.Error = "cancelled"
	if cause != nil {
		res.Error = "cancelled: " + cause.Error()
	}
}
