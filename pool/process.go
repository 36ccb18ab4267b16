package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
)

// ProcessOptions configures a [ProcessPool]. The zero value is a pool of
// runtime.NumCPU() local workers (this program run as `futures worker`)
// named worker_0, worker_1, … with no initializer, never recycled.
type ProcessOptions struct {
	// MaxWorkers is the most worker processes the pool runs at once; 0
	// means runtime.NumCPU(). A negative value makes the constructor panic.
	MaxWorkers int

	// NamePrefix names the workers PREFIX_0, PREFIX_1, …; "" means
	// "worker". A name belongs to a slot of the pool: the worker that
	// replaces a recycled one keeps its name.
	NamePrefix string

	// Initializer is a shell snippet each worker process runs once, before
	// its first job, with FUTURES_WORKER and FUTURES_SLOT set. The
	// environment and working directory it leaves are those of that
	// worker's jobs (`cd /data && export TOKEN=$(cat token)`). Its failure
	// breaks the pool.
	Initializer string

	// Shell runs the Initializer as SHELL... SCRIPT; nil means /bin/sh -c.
	Shell []string

	// MaxTasksPerChild, if positive, is the number of tasks a worker
	// process runs before it exits and a fresh one (with a fresh
	// initializer run) takes its place. 0 means no limit.
	MaxTasksPerChild int

	// Launcher starts the worker processes; nil means &LocalLauncher{}.
	Launcher Launcher

	// StartTimeout bounds the wait for a new worker's Hello (not for its
	// initializer); 0 means 30 s.
	StartTimeout time.Duration

	// StopTimeout bounds the wait for a worker to exit once its stdin is
	// closed, after which it is killed; 0 means 5 s.
	StopTimeout time.Duration

	// Hosts, if any, are where the workers run, each with its own
	// Launcher and number of workers; MaxWorkers and Launcher are then
	// ignored (MaxWorkers is the sum of the hosts' Workers).
	Hosts []Host

	// WorkerLoss is what happens when a worker dies or cannot start:
	// LossBreak (the zero value) or LossRequeue.
	WorkerLoss WorkerLoss

	// MaxRestarts bounds, under LossRequeue, how many workers of one host
	// may be lost (or fail to start) before the host is dropped; 0 means 3.
	MaxRestarts int

	// OnHostDropped, if set, is called (from a worker goroutine) when a
	// host is dropped under LossRequeue, with the error of its last loss.
	OnHostDropped func(host string, err error)

	// OnRefused, if set, is called (from a worker goroutine) when the
	// system refused to start a worker process for lack of a resource
	// (see [Refusal]) while other workers were running: the pool then runs
	// at most workers from now on, rather than break. err is the failure.
	OnRefused func(err error, workers int)
}

// ProcessPool is an [Executor] whose workers are processes, with the
// semantics of Python's ProcessPoolExecutor, for jobs that are commands.
//
// The pool runs at most MaxWorkers worker goroutines, each owning one worker
// process that a [Launcher] starts and that speaks the worker protocol (see
// pool/internal/wire) over its stdin and stdout. Tasks are Go closures, as for a
// [ThreadPool]: a task runs in the goroutine of the worker it is given to,
// with a context that carries that worker's name and ID ([WorkerName],
// [WorkerID]) and its connection, and runs commands on that worker process
// with [RunJob]. Workers start lazily, as a ThreadPool's do; a worker's
// process starts (launch, handshake, initializer) when it takes its first
// task, and after MaxTasksPerChild tasks it is replaced. Tasks start in
// submission order and finish in any order; the Submit context and Cancel
// work as they do for a ThreadPool.
//
// The pool is broken when a worker cannot be started (launch, handshake or
// version mismatch) — unless the system refused a resource to start it
// (too many open files or processes, see [Refusal]) while other workers
// run: then the pool runs with fewer workers from then on (OnRefused says
// so), and the task waits for one of them — when an initializer fails, or when a worker process
// dies without being asked to (killed, crashed, or a garbled frame). Then
// the task that was running on that worker fails with an error wrapping
// [ErrBrokenProcessPool] (and [ErrBroken]) that names the worker and the
// cause (the initializer's stderr, the worker's exit status), every pending
// future fails with it (a task that a worker still starting was to run
// too: that start is stopped; never cancelled, even by a Shutdown that
// cancels futures), Submit returns it, and the other workers exit once
// their running task is done. A running job whose worker died is killed
// with its process group.
//
// With Hosts, the workers run on several machines: each Host has its
// Launcher (ssh, srun, …) and its number of workers, and the pool's slots
// take one host after another ([WorkerHost] tells a task where it runs).
// Under WorkerLoss LossRequeue a lost worker does not break the pool: the
// task it was running goes back to the head of the queue, once (its future
// stays RUNNING; a task lost twice fails with an error matching
// [ErrWorkerLost]), and a fresh worker takes its slot after a short
// backoff; a host whose workers are lost, or fail to start, more than
// MaxRestarts times is dropped (OnHostDropped says so) and its slots with
// it. The pool breaks only when no host is left.
//
// Shutdown with Wait waits for the worker processes to exit: each is asked
// to (its stdin is closed), and killed after StopTimeout; then it closes
// the hosts' Launchers that are io.Closers (a [RemoteLauncher] ends the
// worker it was given with Adopt, if no Launch took it).
//
// The cost of a task over a ThreadPool's is one Job frame out and a Started
// and an Outcome frame back (a few hundred bytes; one write each way for a
// job that ends within 2 ms), plus one frame per chunk of output. Create a ProcessPool with
// [NewProcessPool]; the zero value is not usable.
type ProcessPool[T any] struct {
	max      int
	prefix   string
	init     string
	shell    []string
	maxTasks int
	startTO  time.Duration
	stopTO   time.Duration
	loss     WorkerLoss
	restarts int                          // MaxRestarts
	onDrop   func(host string, err error) // OnHostDropped
	onRefuse func(err error, workers int) // OnRefused

	// slots are the workers the pool may run, spread over the hosts; a
	// worker goroutine owns one while it runs.
	slots []*slot

	core[T]

	// aborting ends when Shutdown cancels the futures: the workers still
	// starting (an initializer that takes its time) are stopped.
	aborting context.Context
	abort    context.CancelFunc

	free    []*slot // slots no goroutine owns, on hosts not dropped, next one last; guarded by mu
	hostsUp int     // hosts not dropped; guarded by mu
	limit   int     // at most this many workers, since the system refused one; 0: none; guarded by mu
	refused uint64  // worker starts the system refused, ever; guarded by mu
}

// slot is one worker of the pool: its ID, name and host.
type slot struct {
	worker
	host *hostState
}

// hostState is a Host and how its workers fared; its fields but Host are
// guarded by the pool's mu.
type hostState struct {
	Host
	lost    int   // workers lost or failed to start
	dropped bool  // no more workers start here
	err     error // the last loss
}

var _ Executor[int] = (*ProcessPool[int])(nil)

// NewProcessPool returns a ProcessPool configured by opts. It starts no
// goroutine and no process: workers start as tasks are submitted. It panics
// if opts.MaxWorkers is negative.
func NewProcessPool[T any](opts ProcessOptions) *ProcessPool[T] {
	if opts.MaxWorkers < 0 {
		panic("pool: NewProcessPool: MaxWorkers " + strconv.Itoa(opts.MaxWorkers) + " < 0")
	}
	if opts.MaxWorkers == 0 {
		opts.MaxWorkers = runtime.NumCPU()
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "worker"
	}
	if opts.Launcher == nil {
		opts.Launcher = &LocalLauncher{}
	}
	hosts := opts.Hosts
	if len(hosts) == 0 {
		hosts = []Host{{Launcher: opts.Launcher, Workers: opts.MaxWorkers}}
	}
	if opts.MaxRestarts <= 0 {
		opts.MaxRestarts = 3
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 5 * time.Second
	}
	p := &ProcessPool[T]{
		max: opts.MaxWorkers, prefix: opts.NamePrefix,
		init: opts.Initializer, shell: opts.Shell, maxTasks: max(opts.MaxTasksPerChild, 0),
		startTO: opts.StartTimeout, stopTO: opts.StopTimeout,
		loss: opts.WorkerLoss, restarts: opts.MaxRestarts, onDrop: opts.OnHostDropped,
		onRefuse: opts.OnRefused,
	}
	p.setup(p.growLocked)
	p.slots = spread(hosts, p.prefix)
	p.max = len(p.slots)
	p.hostsUp = len(hosts)
	for i := len(p.slots) - 1; i >= 0; i-- {
		p.free = append(p.free, p.slots[i])
	}
	p.aborting, p.abort = context.WithCancel(context.Background())
	return p
}

// Submit queues t to run on a worker with a context derived from ctx and
// returns its future at once. After Shutdown it returns ErrShutdown; once
// the pool is broken it returns the error that broke it (matching
// ErrBrokenProcessPool). A nil ctx means context.Background().
func (p *ProcessPool[T]) Submit(ctx context.Context, t Task[T]) (*future.Future[T], error) {
	return p.submit(ctx, t)
}

// growLocked starts a worker on a free slot, if there is one; p.mu is held.
func (p *ProcessPool[T]) growLocked() {
	if p.mayStartLocked() {
		p.startLocked()
	}
}

// mayStartLocked reports whether another worker may start: a slot is free,
// and the system has not refused a worker at this count; p.mu is held.
func (p *ProcessPool[T]) mayStartLocked() bool {
	return len(p.free) > 0 && (p.limit == 0 || p.workers < p.limit)
}

// Shutdown stops the pool taking work, as ThreadPool.Shutdown does; with
// o.Wait it also waits for every worker process to exit. With
// o.CancelFutures it also stops the workers that are still starting (their
// initializer is killed), and cancels the futures they were to run.
func (p *ProcessPool[T]) Shutdown(ctx context.Context, o ShutdownOptions) error {
	if o.CancelFutures {
		p.abort()
	}
	if err := p.stop(ctx, o); err != nil || !o.Wait {
		return err
	}
	p.closeLaunchers()
	return nil
}

// closeLaunchers closes the Launchers of the pool's hosts that are
// io.Closers (a RemoteLauncher holding a worker that no Launch took), once
// the pool has exited.
func (p *ProcessPool[T]) closeLaunchers() {
	seen := map[*hostState]bool{}
	for _, s := range p.slots {
		if seen[s.host] {
			continue
		}
		seen[s.host] = true
		if c, ok := s.host.Launcher.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// maxWorkers implements sizer.
func (p *ProcessPool[T]) maxWorkers() int { return p.max }

// spread makes the slots of the hosts, taking one from each host in turn
// while it has workers left: with hosts a:2 and b:1, the slots are a, b, a.
func spread(hosts []Host, prefix string) []*slot {
	states := make([]*hostState, len(hosts))
	total := 0
	for i, h := range hosts {
		if h.Workers <= 0 {
			panic("pool: NewProcessPool: host " + strconv.Quote(h.Name) + " has " + strconv.Itoa(h.Workers) + " workers")
		}
		if h.Launcher == nil {
			panic("pool: NewProcessPool: host " + strconv.Quote(h.Name) + " has no Launcher")
		}
		states[i] = &hostState{Host: h}
		total += h.Workers
	}
	slots := make([]*slot, 0, total)
	for round := 0; len(slots) < total; round++ {
		for _, h := range states {
			if round < h.Workers {
				id := len(slots)
				slots = append(slots, &slot{worker: worker{id: id, name: prefix + "_" + strconv.Itoa(id)}, host: h})
			}
		}
	}
	return slots
}

// startLocked starts a worker goroutine on the next free slot; p.mu is held
// and p.free is not empty.
func (p *ProcessPool[T]) startLocked() {
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.started++
	p.workers++
	p.idle++
	go p.run(s)
}

// run is a worker goroutine: it takes tasks until the queue is empty after
// Shutdown, the pool is broken or its host is dropped, and runs them on its
// worker process, starting one when it has none.
func (p *ProcessPool[T]) run(s *slot) {
	w := &s.worker
	var pr *proc
	busy := false
	defer func() {
		if pr != nil {
			pr.stop()
		}
		p.exit(s, busy)
	}()
	for {
		it, ok := p.next(s)
		if !ok {
			return
		}
		busy = true
		requeued := it.lost != nil // RUNNING already
		if !requeued && it.ctx.Err() != nil {
			// The context is read before the break: a caller that ends
			// it on hearing of the break (the runner) has the break seen
			// here, and the task fails as broken, not cancelled.
			if broken := p.brokenErr(); broken != nil {
				it.f.SetException(broken) // ErrInvalidState if cancelled meanwhile: fine
				p.setIdle()
				busy = false
				continue
			}
			it.f.Cancel()
		}
		if !requeued && it.f.Cancelled() {
			it.f.SetRunningOrNotifyCancel()
			p.setIdle()
			busy = false
			continue
		}
		if pr == nil {
			var err error
			if pr, err = p.startProcLimited(s); err != nil {
				if errors.Is(err, errRefused) {
					// Another worker takes the task; this one exits.
					p.requeue(it)
					p.setIdle()
					busy = false
					return
				}
				if errors.Is(err, errAborted) {
					switch broken := p.brokenErr(); {
					case requeued:
						it.f.SetException(it.lost)
					case broken != nil:
						// The break stopped this start (or a Shutdown
						// after it): the task was pending, and fails
						// as the queue's did.
						it.f.SetException(broken)
					default:
						it.f.Cancel()
					}
					p.setIdle()
					busy = false
					return
				}
				if p.loss == LossRequeue && p.lose(s.host, err) {
					// Another worker (or this one, again) takes the task.
					p.requeue(it)
					p.setIdle()
					busy = false
					p.backoff(s.host)
					continue
				}
				it.f.SetException(p.breakPool(err)) // ErrInvalidState if cancelled meanwhile: fine
				p.setIdle()
				busy = false
				return
			}
		}
		if broken := p.brokenErr(); broken != nil && !requeued {
			// The pool broke while this worker started: its task was
			// pending, and fails as the queue's did; the worker exits.
			it.f.SetException(broken)
			p.setIdle()
			busy = false
			continue
		}
		if !requeued && !it.f.SetRunningOrNotifyCancel() {
			p.setIdle()
			busy = false
			continue
		}
		v, err := p.execute(w, pr, it)
		pr.tasks++
		lost := pr.lost
		if lost != nil {
			pr = nil // reaped by the task that lost it
		} else if p.maxTasks > 0 && pr.tasks >= p.maxTasks {
			pr.stop()
			pr = nil
		}
		if lost != nil && p.loss == LossRequeue {
			up := p.lose(s.host, lost)
			if up && !requeued && errors.Is(err, ErrWorkerLost) {
				it.lost = err
				p.requeue(it)
				p.setIdle()
				busy = false
				continue
			}
		}
		p.setIdle()
		busy = false
		if err != nil {
			it.f.SetException(err)
		} else {
			it.f.SetResult(v)
		}
	}
}

// lose counts a worker of h lost (or failed to start) with err, under
// LossRequeue: past MaxRestarts losses, h is dropped, and when no host is
// left the pool breaks. It reports whether the pool still has a host.
func (p *ProcessPool[T]) lose(h *hostState, err error) bool {
	p.mu.Lock()
	h.lost++
	h.err = err
	drop := !h.dropped && h.lost > p.restarts
	if drop {
		h.dropped = true
		p.hostsUp--
		free := p.free[:0]
		for _, s := range p.free {
			if s.host != h {
				free = append(free, s)
			}
		}
		p.free = free
		p.work.Broadcast() // its idle workers exit
	}
	up := p.hostsUp > 0
	p.mu.Unlock()
	if drop && p.onDrop != nil {
		p.onDrop(h.Name, err)
	}
	if !up {
		cause := err
		if !errors.Is(cause, ErrBrokenProcessPool) {
			cause = fmt.Errorf("%w: no host is left to start workers on; the last loss: %w", ErrBrokenProcessPool, err)
		}
		p.breakPool(cause)
	}
	return up
}

// requeue puts it back at the head of the queue, for any worker.
func (p *ProcessPool[T]) requeue(it item[T]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		go it.f.SetException(p.broken) // not under mu: callbacks may Submit
		return
	}
	p.queue.pushFront(it)
	p.work.Signal()
	if p.queue.len() > p.idle && p.mayStartLocked() {
		p.startLocked()
	}
}

// backoff waits a little before a worker of h is started again: 100 ms
// more for each loss, at most 2 s, less if the pool is shut down with
// CancelFutures.
func (p *ProcessPool[T]) backoff(h *hostState) {
	p.mu.Lock()
	d := min(time.Duration(h.lost)*100*time.Millisecond, 2*time.Second)
	p.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.aborting.Done():
	}
}

// execute runs one task on pr. A task whose worker died fails with the
// Broken error, whatever it returned.
func (p *ProcessPool[T]) execute(w *worker, pr *proc, it item[T]) (T, error) {
	finished := false
	defer func() {
		if !finished { // runtime.Goexit in the task
			it.f.SetException(errGoexit)
		}
	}()
	ctx := context.WithValue(context.WithValue(it.ctx, workerKey{}, w), procKey{}, pr)
	// Not a ThreadPool task's, even if it.ctx came from one: Later says no.
	ctx = context.WithValue(ctx, laterKey{}, noLater{})
	v, err := catch(func() (T, error) { return it.task(ctx) })
	finished = true
	if pr.lost != nil && !errors.Is(err, pr.lost) {
		var zero T
		if err == nil {
			return zero, pr.lost
		}
		return zero, &lostError{broken: pr.lost, task: err}
	}
	return v, err
}

// lostError is the error of a task whose worker died while it ran: it says
// and matches the Broken error, and the task's own error (a record of the
// job, say) is still there for errors.As.
type lostError struct{ broken, task error }

func (e *lostError) Error() string   { return e.broken.Error() }
func (e *lostError) Unwrap() []error { return []error{e.broken, e.task} }

// next takes the oldest pending task for the worker of slot s, waiting while
// the queue is empty; it returns false when the worker should exit.
func (p *ProcessPool[T]) next(s *slot) (item[T], bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.broken != nil || s.host.dropped {
			return item[T]{}, false
		}
		if it, ok := p.queue.pop(); ok {
			p.idle--
			return it, true
		}
		if p.shutdown {
			return item[T]{}, false
		}
		p.work.Wait()
	}
}

// exit accounts for the worker goroutine of slot s, which is about to
// return; busy is true when a task it ran called runtime.Goexit. The slot
// is free again unless its host was dropped.
func (p *ProcessPool[T]) exit(s *slot, busy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.workers--
	if !busy {
		p.idle--
	}
	if !s.host.dropped {
		p.free = append(p.free, s)
	}
	if p.broken == nil && p.queue.len() > p.idle && p.mayStartLocked() {
		p.startLocked()
	}
	if p.shutdown && p.workers == 0 {
		p.closeLocked()
	}
}

// breakPool marks the pool broken by err (the first error wins), fails
// every pending future with it and stops the workers still starting (an
// initializer that takes its time): their tasks, pending too, fail with it
// as well (run). It returns the error that broke the pool.
func (p *ProcessPool[T]) breakPool(err error) error {
	p.mu.Lock()
	if p.broken == nil {
		p.broken = err
	}
	err = p.broken
	pending := p.queue.drain()
	p.work.Broadcast()
	if p.shutdown && p.workers == 0 {
		p.closeLocked()
	}
	p.mu.Unlock()
	p.abort()
	for _, it := range pending {
		it.f.SetException(err)
	}
	return err
}

// brokenErr is the error that broke the pool, or nil.
func (p *ProcessPool[T]) brokenErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken
}

// errAborted is the error of a worker start that Shutdown stopped.
var errAborted = errors.New("pool: shut down while the worker started")

// errRefused is the error of a worker start that the system refused while
// other workers run: the pool goes on with them.
var errRefused = errors.New("pool: the system refused to start another worker")

// Refusal returns the errno with which err says that the system refused a
// resource: too many open files in this process (EMFILE) or in the system
// (ENFILE), too many processes or no memory to fork (EAGAIN); 0 when it
// does not. Such a failure passes once something else ends and frees what
// it held.
//
// A fork/exec that fails with EBADF is EMFILE in disguise: Go's forkExec
// has the child move its descriptors above the highest one it is given,
// and when that one is the last that RLIMIT_NOFILE allows there is no room
// (it is given only descriptors that are open).
func Refusal(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN:
			return errno
		case syscall.EBADF:
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Op == "fork/exec" {
				return syscall.EMFILE
			}
		}
	}
	return 0
}

// startProcLimited is startProc, for a start the system may refuse (see
// Refusal): then, with other workers running, the pool runs at most as
// many workers as run now (OnRefused says so) and it returns errRefused:
// the task goes back to the queue, for one of them, and this worker exits.
// With no other worker, it tries again if another start was refused
// meanwhile (what that one held is free now); otherwise the start failed.
func (p *ProcessPool[T]) startProcLimited(s *slot) (*proc, error) {
	for {
		p.mu.Lock()
		seen := p.refused
		p.mu.Unlock()
		pr, err := p.startProc(s)
		if err == nil || Refusal(err) == 0 {
			return pr, err
		}
		p.mu.Lock()
		p.refused++
		others := p.workers - 1
		if others == 0 {
			again := p.refused-1 != seen
			p.mu.Unlock()
			if again {
				continue
			}
			return nil, err
		}
		if p.limit == 0 || others < p.limit {
			p.limit = others
		}
		n := p.limit
		p.mu.Unlock()
		if p.onRefuse != nil {
			p.onRefuse(err, n)
		}
		return nil, errRefused
	}
}

// startProc launches the worker process of slot s and goes through the
// handshake and the initializer. Its error wraps ErrBrokenProcessPool, or is
// errAborted.
func (p *ProcessPool[T]) startProc(s *slot) (*proc, error) {
	w := &s.worker
	ctx, cancel := context.WithTimeout(p.aborting, p.startTO)
	defer cancel()
	lp, err := s.host.Launcher.Launch(ctx, w.name)
	if err != nil {
		if p.aborting.Err() != nil {
			return nil, errAborted
		}
		return nil, fmt.Errorf("%w: %s: starting the worker: %w", ErrBrokenProcessPool, w.name, err)
	}
	pr := &proc{name: w.name, host: s.host.Name, p: lp, fr: wire.NewReader(lp.Stdout()), fw: wire.NewWriter(lp.Stdin()),
		stopTO: p.stopTO, onLost: func(err error) { p.breakPool(err) }, lostErr: ErrBrokenProcessPool}
	if p.loss == LossRequeue {
		pr.onLost, pr.lostErr = func(error) {}, ErrWorkerLost
	}
	// Shutdown with CancelFutures closes the worker's stdin: it kills its
	// initializer and exits.
	closed := make(chan struct{})
	unwatch := context.AfterFunc(p.aborting, func() {
		defer close(closed)
		_ = lp.Stdin().Close()
	})
	pr, err = p.handshake(w, pr)
	if !unwatch() {
		<-closed
		if err == nil {
			pr.stop()
		}
		return nil, errAborted
	}
	return pr, err
}

// handshake goes through the Hello, Init and Ready of pr's worker; on an
// error it has reaped the worker.
func (p *ProcessPool[T]) handshake(w *worker, pr *proc) (*proc, error) {
	lp := pr.p
	var err error
	// The worker speaks first (its Hello does not wait for ours), so that
	// neither side writes into a pipe the other is not reading; ours and the
	// Init then go out together, with no round trip between them.
	deadline, hasDeadline := lp.Stdout().(interface{ SetReadDeadline(time.Time) error })
	if hasDeadline {
		_ = deadline.SetReadDeadline(time.Now().Add(p.startTO))
	}
	err = pr.fr.NextJSON(wire.FrameHello, &pr.hello)
	if hasDeadline {
		_ = deadline.SetReadDeadline(time.Time{})
	}
	if err == nil {
		err = wire.CheckHello(pr.hello)
	}
	if err != nil {
		_ = pr.fw.SendError(err)
		return nil, pr.fail("handshake", err)
	}
	_ = pr.fw.SendJSON(wire.FrameHello, wire.LocalHello("runner"))
	_ = pr.fw.SendJSON(wire.FrameInit, wire.InitFrame{
		Name: w.name, ID: w.id, Initializer: p.init, Shell: p.shell,
		Env: []string{"FUTURES_WORKER=" + w.name, "FUTURES_SLOT=" + strconv.Itoa(w.id+1)},
	})
	var ready wire.ReadyFrame
	if err := pr.fr.NextJSON(wire.FrameReady, &ready); err != nil {
		return nil, pr.fail("waiting for the initializer", err)
	}
	if ready.Error != "" {
		pr.stop()
		msg := ready.Error
		if ready.Stderr != "" {
			msg += ": " + ready.Stderr
		}
		return nil, fmt.Errorf("%w: %s (%v): initializer %q failed: %s", ErrBrokenProcessPool, w.name, lp, p.init, msg)
	}
	pr.ready = ready
	return pr, nil
}

// procKey is the context key of the *proc a task runs on.
type procKey struct{}

// proc is the runner's side of one worker process. Its fields are used by
// one goroutine at a time: the worker goroutine that owns it, and the task
// running in it (and fw, which is safe for concurrent use, by the cancel
// callback of a job).
type proc struct {
	name    string
	host    string // the Host's Name, or ""
	p       Process
	fr      *wire.Reader
	fw      *wire.Writer
	hello   Hello           // the worker's
	ready   wire.ReadyFrame // the worker's
	stopTO  time.Duration
	onLost  func(error) // breaks the pool (LossBreak), or nothing
	lostErr error       // what the error of a lost worker wraps: ErrBrokenProcessPool or ErrWorkerLost

	tasks  int          // tasks run
	lastID uint64       // the last job's ID
	jobPID int          // the running job's process group, once Started says
	files  *runnerFiles // the running job's files (transfer.go), or nil

	sharesOnce sync.Once // sets shares (transfer.go)
	shares     bool      // the worker sees the runner's own files
	lost       error     // the worker died: the Broken error; it has been reaped
}

// RunJob runs spec on the worker process of the [ProcessPool] task that ctx
// was given to, writes the job's output to stdout and stderr as it comes
// (nil discards it), and returns the job's outcome when it is over. It is
// what a process-pool task calls to run a command; a task may call it more
// than once (retries), one call at a time.
//
// When ctx ends while the job runs, the worker stops it: TERM to its
// process group, KILL after spec.Grace, or at once when kill is closed
// (which RunJob watches from the moment ctx ends); the outcome then says
// Canceled. If ctx has already ended, the job is not started: the outcome
// has ExitCode -1 and Canceled set.
//
// The error is not about the job (a job that fails is an outcome) but about
// its worker: if the worker process dies or garbles the protocol, RunJob
// kills it and the job's process group, breaks the pool and returns an
// error wrapping ErrBrokenProcessPool; every later call on that worker
// returns that error too. Outside a ProcessPool task it returns an error.
func RunJob(ctx context.Context, spec job.Spec, stdout, stderr io.Writer, kill <-chan struct{}) (job.Outcome, error) {
	pr, _ := ctx.Value(procKey{}).(*proc)
	if pr == nil {
		return job.Outcome{ExitCode: -1}, errors.New("pool: RunJob: not called from a ProcessPool task")
	}
	return pr.run(ctx, spec, stdout, stderr, kill)
}

func (pr *proc) run(ctx context.Context, spec job.Spec, stdout, stderr io.Writer, kill <-chan struct{}) (job.Outcome, error) {
	if pr.lost != nil {
		return job.Outcome{ExitCode: -1, Err: pr.lost}, pr.lost
	}
	if err := ctx.Err(); err != nil {
		return job.Outcome{ExitCode: -1, Canceled: true, Err: fmt.Errorf("not started: %w", err), Start: time.Now()}, nil
	}
	files, failed := pr.openFiles(&spec) // transfer.go
	if failed != nil {
		say(stderr, failed.Err.Error())
		return *failed, nil
	}
	defer files.close()
	pr.lastID++
	id := pr.lastID
	pr.jobPID = 0
	err := pr.fw.SendJSON(wire.FrameJob, wire.JobFrame{ID: id, Spec: spec})
	if err == nil {
		err = files.send(ctx, pr.fw, id)
	}
	if err != nil {
		// The worker is gone; its stdout tells why (or ends).
		_, _, rerr := pr.fr.Next()
		return pr.die(id, rerr)
	}

	// Once ctx ends: a Cancel frame, then a Kill frame if kill is closed
	// before the job is over.
	over := make(chan struct{})
	stop := func() bool { return true }
	var stopped chan struct{}
	if ctx.Done() != nil {
		stopped = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			defer close(stopped)
			if pr.fw.SendJSON(wire.FrameCancel, wire.JobRef{ID: id}) != nil {
				return
			}
			select {
			case <-kill:
				_ = pr.fw.SendJSON(wire.FrameKill, wire.JobRef{ID: id})
			case <-over:
			}
		})
	}
	pr.files = files
	out, err := pr.read(id, stdout, stderr)
	pr.files = nil
	close(over)
	if !stop() {
		<-stopped
	}
	if err == nil {
		out, err = files.finish(ctx, out, stderr)
	}
	if err != nil {
		return pr.die(id, err)
	}
	return out, nil
}

// read reads the frames of job id until its Outcome.
func (pr *proc) read(id uint64, stdout, stderr io.Writer) (job.Outcome, error) {
	var werr error
	write := func(w io.Writer, p []byte) {
		if w == nil || werr != nil {
			return
		}
		if _, err := w.Write(p); err != nil {
			werr = err
		}
	}
	for {
		typ, p, err := pr.fr.Next()
		if err != nil {
			return job.Outcome{}, err
		}
		switch typ {
		case wire.FrameStdout:
			write(stdout, p)
		case wire.FrameStderr:
			write(stderr, p)
		case wire.FrameStarted:
			var s wire.StartedFrame
			if err := wire.Decode(typ, p, &s); err != nil {
				return job.Outcome{}, err
			}
			if s.ID != id {
				return job.Outcome{}, wire.Errorf("Started frame for job %d while job %d runs", s.ID, id)
			}
			pr.jobPID = s.PID
		case wire.FrameOutcome:
			var o wire.OutcomeFrame
			if err := wire.Decode(typ, p, &o); err != nil {
				return job.Outcome{}, err
			}
			if o.ID != id {
				return job.Outcome{}, wire.Errorf("Outcome frame for job %d while job %d runs", o.ID, id)
			}
			if werr != nil {
				o.Err = errors.Join(o.Err, fmt.Errorf("writing output: %w", werr))
			}
			return o.Outcome, nil
		case wire.FrameFileHeader, wire.FrameFileData, wire.FrameFileEnd: // its Return files
			if err := pr.files.frame(typ, p, id); err != nil {
				return job.Outcome{}, err
			}
		case wire.FrameError:
			return job.Outcome{}, wire.PeerErrorOf(p)
		default:
			return job.Outcome{}, wire.Errorf("unexpected %v frame while job %d runs", typ, id)
		}
	}
}

// die handles the loss of the worker while it ran job id (cause: what
// reading or writing its pipes said): it kills and reaps the worker, kills
// the job's process group, breaks the pool and returns the Broken error.
func (pr *proc) die(id uint64, cause error) (job.Outcome, error) {
	var status error
	if cause == io.EOF || cause == nil {
		status = pr.reap(false)
	} else {
		status = pr.reap(true)
	}
	if pr.jobPID > 0 {
		pr.p.KillJob(pr.jobPID)
	}
	var err error
	switch {
	case cause == io.EOF || cause == nil:
		why := "exited"
		if status != nil {
			why = status.Error()
		}
		err = fmt.Errorf("%w: %s (%v) died while running job %d: %s", pr.lostErr, pr.name, pr.p, id, why)
	default:
		err = fmt.Errorf("%w: %s (%v) was killed while running job %d: %w", pr.lostErr, pr.name, pr.p, id, cause)
	}
	pr.lost = err
	pr.onLost(err)
	return job.Outcome{ExitCode: -1, Err: err}, err
}

// fail handles a worker that did not get through its start: it is killed
// and reaped, and the error, wrapping ErrBrokenProcessPool, says what went
// wrong in stage and how the worker ended.
func (pr *proc) fail(stage string, cause error) error {
	status := pr.reap(!errors.Is(cause, io.EOF) && !errors.Is(cause, io.ErrUnexpectedEOF))
	var pe *wire.PeerError
	switch {
	case errors.As(cause, &pe):
		return fmt.Errorf("%w: %s (%v): %s: the worker says: %w", ErrBrokenProcessPool, pr.name, pr.p, stage, cause)
	case status != nil:
		return fmt.Errorf("%w: %s (%v): %s: %w; the worker ended: %v", ErrBrokenProcessPool, pr.name, pr.p, stage, cause, status)
	}
	return fmt.Errorf("%w: %s (%v): %s: %w", ErrBrokenProcessPool, pr.name, pr.p, stage, cause)
}

// stop asks the worker to exit (closes its stdin) and waits for it, killing
// it after stopTO.
func (pr *proc) stop() { _ = pr.reap(false) }

// stopProcess asks p, a worker process that runs no task, to exit (closes
// its stdin) and waits for it, killing it after 5 s.
func stopProcess(p Process) error {
	pr := &proc{p: p, stopTO: 5 * time.Second}
	return pr.reap(false)
}

// reap closes the worker's stdin, KILLs it at once if kill (or after
// stopTO) and waits for it to exit; it returns how the worker ended.
func (pr *proc) reap(kill bool) error {
	_ = pr.p.Stdin().Close()
	if kill {
		_ = pr.p.Kill()
	}
	done := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() { done <- pr.p.Wait() })
	defer wg.Wait()
	t := time.NewTimer(pr.stopTO)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		_ = pr.p.Kill()
		return <-done
	}
}
