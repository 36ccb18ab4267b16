package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/shquote"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/service/store"
	"github.com/futures-cli/futures/runner/shell"
)

// ErrShutdown is the error of a submit to a service that is shutting
// down: it takes no new futures (Python's RuntimeError "cannot schedule
// new futures after shutdown").
var ErrShutdown = errors.New("it is shutting down and takes no new futures")

// ErrDeadlock is the error of a wait by a job of the service on futures
// that can never start: every worker is held by a job that waits on
// futures queued behind it (the nested-use deadlock Python's docs warn
// of for process pools).
var ErrDeadlock = errors.New("deadlock: every worker of the service is held by a job waiting on futures that are queued behind it")

// ReturnWhen is Python's wait(return_when=…).
type ReturnWhen string

// The three conditions of Python's wait.
const (
	FirstCompleted = ReturnWhen("FIRST_COMPLETED")
	FirstException = ReturnWhen("FIRST_EXCEPTION")
	AllCompleted   = ReturnWhen("ALL_COMPLETED")
)

// ParseReturnWhen parses FIRST_COMPLETED, FIRST_EXCEPTION or
// ALL_COMPLETED (case-insensitive; "" is ALL_COMPLETED).
func ParseReturnWhen(s string) (ReturnWhen, error) {
	switch r := ReturnWhen(strings.ToUpper(s)); r {
	case "":
		return AllCompleted, nil
	case FirstCompleted, FirstException, AllCompleted:
		return r, nil
	}
	return "", fmt.Errorf("bad return-when %q: want FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED", s)
}

// Failed reports whether a done future counts as an exception for
// FIRST_EXCEPTION and for the exit status of wait: it was cancelled, or
// it finished with a non-zero exit status, a start failure or broken.
func Failed(f *store.Future) bool {
	switch f.State {
	case future.Cancelled:
		return true
	case future.Finished:
		return f.ExitCode != 0 || f.Error != "" || f.Broken
	}
	return false
}

// Satisfied reports whether Python's wait(fs, return_when) would return
// given the futures fs: all done, or (FIRST_COMPLETED) one done, or
// (FIRST_EXCEPTION) one failed.
func Satisfied(fs []*store.Future, rw ReturnWhen) bool {
	done := 0
	for _, f := range fs {
		if !f.Done() {
			continue
		}
		done++
		if rw == FirstCompleted || rw == FirstException && Failed(f) {
			return true
		}
	}
	return done == len(fs)
}

// ExecOptions tune an Executor.
type ExecOptions struct {
	// Workers is how many jobs run at once; 0 is 1.
	Workers int
	// Name is the service's name, given to jobs as FUTURES_SERVICE.
	Name string
	// Grace is the time between TERM and KILL when a running job is
	// terminated; 0 is 5 s.
	Grace time.Duration
	// Log receives what the executor does not tell a client: callbacks
	// that failed, jobs whose outcome could not be stored.
	Log *log.Logger
	// CallbackOutput receives the output of done-callbacks; nil discards.
	CallbackOutput io.Writer
	// Pool, if not nil, runs the jobs in its worker processes (the
	// process executor, local or on other hosts: `futures start
	// --executor process`, -S, --launcher); it must have Workers workers.
	// Nil runs each job as a process of the service's own (the thread
	// executor). Shell is the pool's shell for command lines; nil is
	// /bin/sh -c.
	Pool  pool.Executor[job.Outcome]
	Shell []string
	// Remote is true when Pool's workers run on other hosts: a job then
	// runs in its worker's directory and environment, not the
	// submitter's.
	Remote bool
}

// queued is a future waiting for a worker, with what the store does not
// keep: the submitter's environment.
type queued struct {
	id      int64
	spec    store.Spec
	environ []string
	// lease, when not nil, makes this entry a request for a slot by an
	// attached run (attach.go) rather than a future.
	lease *leaseReq
}

// running is a job the executor started.
type running struct {
	slot int // 1…Workers, FUTURES_SLOT
	stop context.CancelFunc
	kill chan struct{}
	// terminated is set once a client asked to terminate it.
	terminated bool
	killOnce   sync.Once // closes kill
	// waiting counts the waits this job's own process is blocked in
	// (nested use), for deadlock detection.
	waiting int
}

// Executor runs a service's futures: at most Workers at once, in the
// order submitted, each a process group of its own (runner/proc.Exec)
// writing to its output files in the store. It keeps only the pending
// futures in memory; everything else is the store's.
type Executor struct {
	st   *store.Store
	opts ExecOptions

	mu       sync.Mutex
	queue    []queued
	running  map[int64]*running
	closed   bool
	changed  chan struct{} // closed and replaced at every change of a future
	draining map[int64]bool
	again    map[int64]bool
	// withCallbacks are the futures that were given a callback (by this
	// service): only they are looked at for callbacks when done.
	withCallbacks map[int64]bool
	// drained is set by Drain once nothing runs: no callback starts
	// after it.
	drained   bool
	slots     []int               // the free worker slots, lowest last
	leased    map[int]*Attachment // slots held by attached runs
	attached  map[int64]*Attachment
	attachSeq int64
	jobs      sync.WaitGroup // the goroutines of running jobs and callbacks
}

// NewExecutor returns an executor of the futures in st.
func NewExecutor(st *store.Store, opts ExecOptions) *Executor {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = log.New(io.Discard, "", 0)
	}
	slots := make([]int, opts.Workers)
	for i := range slots {
		slots[i] = opts.Workers - i
	}
	return &Executor{
		slots:         slots,
		leased:        map[int]*Attachment{},
		attached:      map[int64]*Attachment{},
		st:            st,
		opts:          opts,
		running:       map[int64]*running{},
		changed:       make(chan struct{}),
		draining:      map[int64]bool{},
		withCallbacks: map[int64]bool{},
		again:         map[int64]bool{},
	}
}

// Workers is how many jobs the executor runs at once.
func (e *Executor) Workers() int { return e.opts.Workers }

// broadcast wakes every waiter; e.mu is held.
func (e *Executor) broadcast() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Submission is one submit: its futures' specs and the environment they
// run with (nil: the service's own).
type Submission struct {
	Specs   []store.Spec
	Environ []string
}

// Submit adds the futures of sub to the store, queues them and returns
// their ids once they are committed. After Shutdown it fails with
// ErrShutdown.
func (e *Executor) Submit(ctx context.Context, sub Submission) ([]int64, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrShutdown
	}
	ids, err := e.st.Submit(ctx, sub.Specs)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed {
		// Shut down between the check and the commit: the futures are
		// on disk, but will not run.
		e.mu.Unlock()
		if _, err := e.st.Cancel(context.Background(), ids); err != nil {
			e.opts.Log.Printf("cancelling %v, submitted as the service shut down: %v", ids, err)
		}
		return nil, ErrShutdown
	}
	defer e.mu.Unlock()
	for i, id := range ids {
		e.queue = append(e.queue, queued{id: id, spec: sub.Specs[i], environ: sub.Environ})
	}
	e.dispatch()
	return ids, nil
}

// dispatch starts queued futures while a worker is free; e.mu is held.
func (e *Executor) dispatch() {
	for len(e.slots) > 0 && len(e.queue) > 0 {
		q := e.queue[0]
		e.queue[0] = queued{}
		e.queue = e.queue[1:]
		if len(e.queue) == 0 {
			e.queue = nil // let the array go
		}
		if q.lease != nil {
			e.grant(q.lease)
			continue
		}
		ctx, stop := context.WithCancel(context.Background())
		slot := e.slots[len(e.slots)-1]
		e.slots = e.slots[:len(e.slots)-1]
		r := &running{slot: slot, stop: stop, kill: make(chan struct{})}
		e.running[q.id] = r
		e.jobs.Add(1) // done by ended, when the future is
		go e.run(ctx, q, r)
	}
}

// run runs one queued future to its end, then (ended) frees its worker,
// wakes the waiters and runs its callbacks. A future of the thread
// executor ends on another goroutine: while its job runs, no goroutine
// waits for it (proc.Start).
func (e *Executor) run(ctx context.Context, q queued, r *running) {
	if e.opts.Pool != nil {
		e.startOnPool(ctx, q, r)
		e.ended(q, r)
		return
	}
	e.start(ctx, q, r, func() { e.ended(q, r) })
}

// ended accounts for the end of future q, run by r.
func (e *Executor) ended(q queued, r *running) {
	defer e.jobs.Done()
	r.stop()
	e.mu.Lock()
	delete(e.running, q.id)
	e.slots = append(e.slots, r.slot)
	e.drainLocked(q.id)
	e.dispatch()
	e.broadcast()
	e.mu.Unlock()
}

// start moves the future to RUNNING, starts it and, once it has ended,
// stores its outcome and calls end; a future cancelled meanwhile does not
// run (Python's set_running_or_notify_cancel), and end is called at once.
func (e *Executor) start(ctx context.Context, q queued, r *running, end func()) {
	bg := context.Background()
	ok, err := e.st.Start(bg, q.id, slotName(r.slot), "", time.Now())
	if err != nil {
		e.opts.Log.Printf("%%%d: %v", q.id, err)
		end()
		return
	}
	if !ok {
		end()
		return
	}
	e.mu.Lock()
	e.broadcast()
	e.mu.Unlock()
	e.exec(ctx, q, r, func(o job.Outcome) {
		if err := e.st.Finish(bg, q.id, o); err != nil {
			e.opts.Log.Printf("%%%d: storing its outcome: %v", q.id, err)
		}
		end()
	})
}

// slotName names the worker of a job of the thread executor: its slot.
func slotName(slot int) string { return "slot_" + strconv.Itoa(slot) }

// errNotStarted is a pool task's error for a future cancelled before its
// worker took it.
var errNotStarted = errors.New("cancelled before it started")

// startOnPool runs the future on a worker of opts.Pool: the task moves it
// to RUNNING on that worker (so that status names the worker and host),
// runs it there and stores its outcome.
func (e *Executor) startOnPool(ctx context.Context, q queued, r *running) {
	bg := context.Background()
	fu, err := e.opts.Pool.Submit(ctx, func(tctx context.Context) (job.Outcome, error) {
		ok, err := e.st.Start(bg, q.id, pool.WorkerName(tctx), pool.WorkerHost(tctx), time.Now())
		if err != nil {
			return job.Outcome{}, err
		}
		if !ok {
			return job.Outcome{}, errNotStarted
		}
		e.mu.Lock()
		e.broadcast()
		e.mu.Unlock()
		stdout, stderr, err := e.st.CreateOutput(q.id)
		if err != nil {
			return job.Outcome{ExitCode: -1, Err: fmt.Errorf("creating its output files: %w", err)}, nil
		}
		defer stdout.Close()
		defer stderr.Close()
		spec := job.Spec{
			Line: q.spec.Line, Argv: q.spec.Argv, Shell: q.spec.Argv == nil, ShellCmd: e.opts.Shell,
			Env: e.jobEnv(q, r, pool.WorkerName(tctx)), Grace: e.opts.Grace,
		}
		if !e.opts.Remote {
			spec.Dir = q.spec.Dir
		}
		o, err := pool.RunJob(tctx, spec, stdout, stderr, r.kill)
		if err != nil {
			o.ExitCode, o.Err = -1, err
		}
		return o, nil
	})
	var o job.Outcome
	if err == nil {
		o, err = fu.Result(bg)
	}
	switch {
	case errors.Is(err, errNotStarted):
		return
	case err != nil:
		// The pool broke, or would not take the task: the future did
		// not run. It is still PENDING when the task never started.
		if f, gerr := e.st.Get(bg, q.id); gerr == nil && f.State == future.Pending {
			if _, serr := e.st.Start(bg, q.id, "", "", time.Now()); serr != nil {
				e.opts.Log.Printf("%%%d: %v", q.id, serr)
				return
			}
		}
		o = job.Outcome{ExitCode: -1, Err: err, Start: time.Now()}
	}
	if err := e.st.Finish(bg, q.id, o); err != nil {
		e.opts.Log.Printf("%%%d: storing its outcome: %v", q.id, err)
	}
}

// jobEnv is what a job of the service finds in its environment besides
// its base one.
func (e *Executor) jobEnv(q queued, r *running, worker string) []string {
	return append([]string{
		"FUTURES_SERVICE=" + e.opts.Name,
		"FUTURES_ID=%" + strconv.FormatInt(q.id, 10),
		"FUTURES_SLOT=" + strconv.Itoa(r.slot),
		"FUTURES_WORKER=" + worker,
	}, q.spec.Env...)
}

// exec starts the future's command with its output in the store's files,
// and calls done with its outcome once it has ended.
func (e *Executor) exec(ctx context.Context, q queued, r *running, done func(job.Outcome)) {
	stdout, stderr, err := e.st.CreateOutput(q.id)
	if err != nil {
		done(job.Outcome{ExitCode: -1, Err: fmt.Errorf("creating its output files: %w", err)})
		return
	}
	c := shell.Command{Line: q.spec.Line, Argv: q.spec.Argv, Shell: q.spec.Argv == nil}
	env := e.jobEnv(q, r, slotName(r.slot))
	if run := os.Getenv("FUTURES_RUN"); run != "" && q.environ != nil {
		env = append(env, "FUTURES_RUN="+run) // the guard's mark
	}
	proc.Start(ctx, c, proc.ExecOptions{
		Env:     env,
		Environ: q.environ,
		Dir:     q.spec.Dir,
		Stdout:  stdout,
		Stderr:  stderr,
		Grace:   e.opts.Grace,
		Kill:    r.kill,
	}, func(o job.Outcome) {
		stdout.Close()
		stderr.Close()
		done(o)
	})
}

// CancelResult is what Cancel did with each id.
type CancelResult struct {
	// NotCancelled are the ids that had started or finished (Python's
	// cancel() returning False), in the order given.
	NotCancelled []int64
	// Terminated are the running ids that were asked to stop (terminate).
	Terminated []int64
}

// Cancel cancels the pending futures of ids. With terminate it also stops
// the running ones: TERM to the job's process group, KILL after grace (0:
// the executor's Grace); they finish killed by that signal.
func (e *Executor) Cancel(ctx context.Context, ids []int64, terminate bool, grace time.Duration) (CancelResult, error) {
	before, err := e.st.List(ctx, store.Filter{IDs: ids, States: []future.State{future.Pending}})
	if err != nil {
		return CancelResult{}, err
	}
	not, err := e.st.Cancel(ctx, ids)
	if err != nil {
		return CancelResult{}, err
	}
	res := CancelResult{NotCancelled: not}
	e.mu.Lock()
	if terminate {
		for _, id := range not {
			r, ok := e.running[id]
			if !ok {
				continue
			}
			res.Terminated = append(res.Terminated, id)
			if !r.terminated {
				r.terminated = true
				r.stop()
				if grace > 0 && grace < e.opts.Grace {
					time.AfterFunc(grace, func() { r.killOnce.Do(func() { close(r.kill) }) })
				}
			}
		}
	}
	e.dropCancelled()
	e.broadcast()
	e.mu.Unlock()
	stillPending := map[int64]bool{}
	for _, id := range not {
		stillPending[id] = true
	}
	for _, f := range before {
		if !stillPending[f.ID] {
			e.drainCallbacks(f.ID)
		}
	}
	return res, nil
}

// dropCancelled removes cancelled futures from the queue; e.mu is held.
// It asks the store, so it costs a query: it runs after a cancel only.
func (e *Executor) dropCancelled() {
	if len(e.queue) == 0 {
		return
	}
	ids := make([]int64, 0, len(e.queue))
	for _, q := range e.queue {
		if q.lease == nil {
			ids = append(ids, q.id)
		}
	}
	fs, err := e.st.List(context.Background(), store.Filter{IDs: ids, States: []future.State{future.Pending}})
	if err != nil {
		return // dispatch skips them anyway: Start reports them cancelled
	}
	pending := make(map[int64]bool, len(fs))
	for _, f := range fs {
		pending[f.ID] = true
	}
	kept := e.queue[:0]
	for _, q := range e.queue {
		if q.lease != nil || pending[q.id] {
			kept = append(kept, q)
		}
	}
	clear(e.queue[len(kept):])
	e.queue = kept
}

// AddCallback adds argv as a done-callback of id and runs it at once when
// the future is done already.
func (e *Executor) AddCallback(ctx context.Context, id int64, argv []string) (int, error) {
	e.mu.Lock()
	drained := e.drained
	e.mu.Unlock()
	if drained {
		return 0, ErrShutdown // the service is on its way out: nothing would run it
	}
	seq, err := e.st.AddCallback(ctx, id, argv)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.withCallbacks[id] = true
	e.mu.Unlock()
	f, err := e.st.Get(ctx, id)
	if err == nil && f.Done() {
		e.markAndDrain(id)
	}
	return seq, nil
}

// drainCallbacks runs the callbacks of the done future id that have not
// run yet, in order, in a goroutine of the executor; a drain already at
// work on id runs the new ones after its own.
func (e *Executor) drainCallbacks(id int64) { e.drain(id, false) }

// markAndDrain is drainCallbacks for a future just given a callback.
func (e *Executor) markAndDrain(id int64) { e.drain(id, true) }

func (e *Executor) drain(id int64, mark bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if mark {
		e.withCallbacks[id] = true
	}
	e.drainLocked(id)
}

// drainLocked is drainCallbacks with e.mu held: a future's last moment in
// e.running and the start of its drain are one step, so that Drain never
// finds the executor idle in between.
func (e *Executor) drainLocked(id int64) {
	if !e.withCallbacks[id] || e.drained {
		return
	}
	if e.draining[id] {
		e.again[id] = true
		return
	}
	e.draining[id] = true
	e.jobs.Add(1)
	go func() {
		defer e.jobs.Done()
		for {
			e.runCallbacks(id)
			e.mu.Lock()
			if e.again[id] {
				delete(e.again, id)
				e.mu.Unlock()
				continue
			}
			delete(e.draining, id)
			delete(e.withCallbacks, id) // done, and all ran
			e.broadcast()               // Drain waits for the drains
			e.mu.Unlock()
			return
		}
	}()
}

func (e *Executor) runCallbacks(id int64) {
	ctx := context.Background()
	cbs, err := e.st.Callbacks(ctx, id)
	if err != nil || len(cbs) == 0 {
		return
	}
	f, err := e.st.Get(ctx, id)
	if err != nil {
		return
	}
	code := ""
	if f.State == future.Finished {
		code = strconv.Itoa(f.ExitCode)
	}
	state := f.State.String()
	if f.Broken {
		state = "BROKEN"
	}
	for _, cb := range cbs {
		if !cb.Ran.IsZero() {
			continue
		}
		o := proc.Exec(ctx, shell.Command{Line: shellLine(cb.Argv), Argv: cb.Argv}, proc.ExecOptions{
			Env: []string{
				"FUTURES_SERVICE=" + e.opts.Name,
				"FUTURES_ID=%" + strconv.FormatInt(id, 10),
				"FUTURES_STATE=" + state,
				"FUTURES_EXIT_CODE=" + code,
			},
			Dir:    f.Spec.Dir,
			Stdout: e.opts.CallbackOutput,
			Stderr: e.opts.CallbackOutput,
			Grace:  e.opts.Grace,
		})
		if o.Err != nil || o.ExitCode != 0 {
			e.opts.Log.Printf("%%%d: callback %d (%s) failed: exit %d %v", id, cb.Seq, shellLine(cb.Argv), o.ExitCode, o.Err)
		}
		if err := e.st.MarkCallbackRan(ctx, id, cb.Seq, time.Now(), o.ExitCode, o.Err); err != nil {
			e.opts.Log.Printf("%%%d: callback %d: %v", id, cb.Seq, err)
		}
	}
}

// Wait blocks until the futures ids satisfy rw, timeout (≤ 0: none)
// passes or ctx ends, and returns them. waiter, when not 0, is the id of
// a running job of this executor that waits (nested use): when every
// worker is held by such a job and futures are queued, the wait fails
// with ErrDeadlock rather than hang.
func (e *Executor) Wait(ctx context.Context, ids []int64, rw ReturnWhen, timeout time.Duration, waiter int64) ([]*store.Future, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	registered := false
	defer func() {
		if registered {
			e.mu.Lock()
			if r := e.running[waiter]; r != nil {
				r.waiting--
			}
			e.mu.Unlock()
		}
	}()
	// A done future stays done: each pass reads again only those that
	// were not, so a wait over N ids costs N reads in all, not N per
	// change.
	fs, err := e.get(ctx, ids)
	if err != nil {
		return nil, err
	}
	for {
		// The snapshot of changed comes before the read: a change after
		// the read closes it.
		e.mu.Lock()
		changed := e.changed
		e.mu.Unlock()
		if err := e.refresh(ctx, fs); err != nil {
			return nil, err
		}
		if Satisfied(fs, rw) {
			return fs, nil
		}
		e.mu.Lock()
		if waiter != 0 && !registered {
			if r := e.running[waiter]; r != nil {
				r.waiting++
				registered = true
			}
		}
		deadlock := registered && e.deadlocked()
		if deadlock {
			e.broadcast() // the other stuck waits see it too
		}
		e.mu.Unlock()
		if deadlock {
			return fs, ErrDeadlock
		}
		select {
		case <-changed:
		case <-expired:
			return fs, e.refresh(ctx, fs)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// deadlocked reports whether every worker is held by a job blocked in a
// wait while futures are queued; e.mu is held.
func (e *Executor) deadlocked() bool {
	if len(e.queue) == 0 || len(e.slots) > 0 || len(e.leased) > 0 {
		return false // a free slot, or one an attached run will give back
	}
	for _, r := range e.running {
		if r.waiting == 0 {
			return false
		}
	}
	return true
}

// refresh reads again, in place, the futures of fs that are not done.
func (e *Executor) refresh(ctx context.Context, fs []*store.Future) error {
	var ids []int64
	at := map[int64]int{}
	for i, f := range fs {
		if !f.Done() {
			ids = append(ids, f.ID)
			at[f.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now, err := e.st.List(ctx, store.Filter{IDs: ids})
	if err != nil {
		return err
	}
	for _, f := range now {
		fs[at[f.ID]] = f
	}
	return nil
}

// get returns the futures ids in the order given; an unknown id is an
// error wrapping store.ErrNoFuture that names it.
func (e *Executor) get(ctx context.Context, ids []int64) ([]*store.Future, error) {
	return Lookup(ctx, e.st, ids)
}

// Lookup returns the futures ids of st in the order given; an unknown id
// is an error wrapping store.ErrNoFuture that names it (%N).
func Lookup(ctx context.Context, st *store.Store, ids []int64) ([]*store.Future, error) {
	fs, err := st.List(ctx, store.Filter{IDs: ids})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*store.Future, len(fs))
	for _, f := range fs {
		byID[f.ID] = f
	}
	out := make([]*store.Future, len(ids))
	for i, id := range ids {
		f, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%%%d: %w (never submitted, or forgotten)", id, store.ErrNoFuture)
		}
		out[i] = f
	}
	return out, nil
}

// Shutdown stops taking futures; with cancelFutures it cancels the
// pending ones; with terminate it also stops the running ones (SIGTERM
// to the service). It does not wait: Drain does.
func (e *Executor) Shutdown(ctx context.Context, cancelFutures, terminate bool) {
	e.mu.Lock()
	e.closed = true
	var ids []int64
	if cancelFutures {
		for _, q := range e.queue {
			if q.lease == nil {
				ids = append(ids, q.id)
			}
		}
	}
	if terminate {
		for id := range e.running {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	if len(ids) > 0 {
		if _, err := e.Cancel(ctx, ids, terminate, e.opts.Grace); err != nil {
			e.opts.Log.Printf("shutdown: cancelling: %v", err)
		}
	}
}

// Drain waits until no future is queued or running and every callback
// has run.
func (e *Executor) Drain() {
	for {
		e.mu.Lock()
		idle := len(e.queue) == 0 && len(e.running) == 0 && len(e.leased) == 0 && len(e.draining) == 0
		if idle {
			e.drained = true // no callback drain starts from now on
		}
		changed := e.changed
		e.mu.Unlock()
		if idle {
			break
		}
		<-changed
	}
	e.jobs.Wait()
}

// Counts reports how many futures are queued and running.
func (e *Executor) Counts() (pending, running int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue), len(e.running)
}

// shellLine is argv as one shell-quoted line, for messages and for the
// store's Line of an argv.
func shellLine(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		shquote.QuoteTo(&b, a)
	}
	return b.String()
}

// ShellLine is argv as one shell-quoted line: the Line of a future
// submitted as an argv.
func ShellLine(argv []string) string { return shellLine(argv) }
