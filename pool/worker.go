package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/shquote"
)

// WorkerOptions configures [ServeWorker].
type WorkerOptions struct {
	// Exec runs one job (or the initializer, as a shell job) and returns
	// once the job's main process has exited and its output has been
	// written to jio.Stdout and jio.Stderr. When ctx ends it stops the job:
	// TERM to its process group, KILL after spec.Grace, or at once when
	// jio.Kill is closed. It calls jio.Started with the pid of the job's
	// main process, the leader of the job's process group, once that has
	// started, from the goroutine that called it, before it writes any of
	// the job's output (the Started frame comes first). It must not write
	// to the worker's stdout. Required;
	// cmd/worker.go wires it to proc.ExecJob (runner/proc).
	Exec func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome
	// ParentWatch is how often the worker checks that its parent process
	// is still the one that started it (getppid), standing in for a
	// parent-death signal: once the parent is gone, ServeWorker KILLs the
	// running job and returns an error matching ErrOrphaned. 0 means every
	// 100 ms on a system without a parent-death signal
	// (pgroup.DeathSignalDelivered false: macOS, or FUTURES_FORCE_PORTABLE=1)
	// and never elsewhere; below 0, never.
	ParentWatch time.Duration
}

// JobIO is where a job's output goes and how a worker stops it; see
// [WorkerOptions.Exec].
type JobIO struct {
	Stdout, Stderr io.Writer       // the job's output; nil discards it
	Kill           <-chan struct{} // closed: KILL the job now rather than after its grace
	Started        func(pid int)   // called once the job's process group leader has started, from Exec's goroutine
}

// ServeWorker is the worker side of the protocol (see pool/internal/wire): it
// reads frames from in and writes frames to out, running one job at a time
// with opts.Exec, until in ends. It is what `futures worker` runs, over its
// stdin and stdout.
//
// The handshake comes first: ServeWorker sends its Hello, then expects the
// runner's Hello (a different protocol version is an error, reported to the
// runner in an Error frame) and an Init frame. If Init carries an
// initializer, ServeWorker runs it once under the shell, followed by a
// capture of the environment and working directory the snippet leaves;
// every job of this worker then runs in that environment (its Env added)
// and, unless its spec names a Dir, in that directory. An initializer that
// fails (non-zero exit, or one that exits before its end) is reported in a
// Ready frame with its error and stderr, and ServeWorker returns an error.
//
// ServeWorker returns nil when in ends between jobs (the runner closed the
// worker's stdin: a normal stop). When in ends while a job runs, the runner
// is gone: the job is KILLed and ServeWorker returns an error matching
// io.ErrUnexpectedEOF. When ctx ends, it KILLs the running job and returns
// ctx.Err(); when its parent process dies (see WorkerOptions.ParentWatch),
// it KILLs the running job and returns an error matching ErrOrphaned. A
// garbled frame is an error, sent to the runner in an Error
// frame as well. While a job runs, the runner's frames (Cancel, Kill) and
// the end of in are seen once it has run for watchDelay (2 ms).
//
// ServeWorker reads in itself between jobs, and from a goroutine of its
// own once a job has run for watchDelay (see watch), which it waits for
// before it returns. When ctx ends or ServeWorker returns, it closes in if
// in is an io.Closer, to end a Read in progress (give it a reader whose
// Close does, like a pipe from os.Pipe); otherwise it waits for in's next
// Read to return.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, opts WorkerOptions) error {
	if opts.Exec == nil {
		return errors.New("pool: ServeWorker: nil Exec")
	}
	s := &server{opts: opts, fw: wire.NewWriter(out), r: reader{fr: wire.NewReader(in), stage: wire.FrameHello},
		msgs: make(chan msg), quit: make(chan struct{})}
	if err := s.fw.SendJSON(wire.FrameHello, wire.LocalHello("worker")); err != nil {
		return fmt.Errorf("pool: worker: writing hello: %w", err)
	}
	closeIn := func() {
		if c, ok := in.(io.Closer); ok {
			_ = c.Close()
		}
	}
	if period := parentWatchPeriod(opts.ParentWatch); period > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		ppid := os.Getppid()
		s.watchers.Go(func() { watchParent(ppid, period, s.quit, cancel) })
	}
	stopAbort := context.AfterFunc(ctx, func() {
		s.abort()
		closeIn()
	})
	err := s.serve(ctx)
	stopAbort()
	close(s.quit)
	closeIn()
	s.watchers.Wait()
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrOrphaned) {
		return fmt.Errorf("pool: worker: %w", cause)
	}
	return err
}

// server is one session of ServeWorker.
type server struct {
	opts WorkerOptions
	fw   *wire.Writer
	r    reader        // used by serve, or by the watcher while watched
	msgs chan msg      // the frame the watcher read for serve
	quit chan struct{} // closed when serve has returned

	environ []string // the environment the initializer left; nil: the worker's own
	dir     string   // the directory it left; "": the worker's own

	watched  bool           // a watcher has read (or reads) the next frame for serve; used by serve
	watchers sync.WaitGroup // the watchers started

	mu      sync.Mutex // guards current and aborted
	current *task      // the job (or initializer) running, or nil
	aborted bool       // ctx ended or in ended: kill what runs, start nothing
}

// msg is a frame read and decoded, or the error that ended the reading.
type msg struct {
	typ   wire.FrameType
	init  wire.InitFrame
	job   wire.JobFrame
	t     *task
	files *workerFiles // the job's files (transfer.go), or nil
	err   error
}

// task is a running job (or initializer) and what stops it.
type task struct {
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	kill   chan struct{}
	killed bool // kill is closed
}

func newTask(id uint64) *task {
	ctx, cancel := context.WithCancel(context.Background())
	return &task{id: id, ctx: ctx, cancel: cancel, kill: make(chan struct{})}
}

// stop cancels t, and KILLs it at once if kill; s.mu is held.
func (t *task) stop(kill bool) {
	t.cancel()
	if kill && !t.killed {
		t.killed = true
		close(t.kill)
	}
}

// abort kills the running task and refuses the next: ctx or in ended.
func (s *server) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	if s.current != nil {
		s.current.stop(true)
	}
}

// reader is where the runner's frames are read and how far the session has
// come. One goroutine at a time uses it: serve between jobs, a watcher while
// a job runs (see watch).
type reader struct {
	fr     *wire.Reader
	stage  wire.FrameType // the frame expected next: Hello, Init, then Job
	lastID uint64         // the last job's id
}

// read reads frames until one for serve, checking the order of the session
// (Hello, Init, then jobs one at a time) and acting on Cancel and Kill
// itself. A read error (the end of in, say) kills the running job, if any.
func (s *server) read() msg {
	for {
		m := s.readOne(s.r.fr, &s.r.stage, &s.r.lastID)
		if m.typ == wire.FrameJob && m.err == nil {
			m = s.receiveFiles(s.r.fr, m)
		}
		if m.err != nil {
			s.mu.Lock()
			if m.err == io.EOF && s.current != nil {
				m.err = fmt.Errorf("the runner closed the worker's stdin while job %d ran: %w", s.current.id, io.ErrUnexpectedEOF)
			}
			s.mu.Unlock()
			s.abort()
		}
		if m.typ != 0 || m.err != nil {
			return m
		}
	}
}

// watchDelay is how long a job (or the initializer) runs before a watcher
// starts reading the runner's frames for it. Until then nobody reads them: a
// job that ends sooner (most do) costs no goroutine hand-off, and serve reads
// the next Job frame itself; a Cancel or Kill frame, or the end of in, is
// acted on at most watchDelay late. It is also how long a job's Started frame
// may wait for a frame to go out with (see run).
const watchDelay = 2 * time.Millisecond

// watchSoon starts a watcher after watchDelay, unless the function it
// returns is called first; serve calls that once the job is over.
//
// The watcher flushes a held Started frame, then reads the runner's frames,
// acting on Cancel and Kill, until it reads one for serve (the next Job, or
// the error that ends the session): it hands that over to serve, with the
// reader, and ends.
func (s *server) watchSoon() (over func()) {
	s.watchers.Add(1)
	t := time.AfterFunc(watchDelay, func() {
		defer s.watchers.Done()
		_ = s.fw.Uncork()
		m := s.read()
		select {
		case s.msgs <- m:
		case <-s.quit:
		}
	})
	return func() {
		if t.Stop() {
			s.watchers.Done()
		} else {
			s.watched = true
		}
	}
}

// next returns the next frame for serve: read here, or by the watcher of
// the last job.
func (s *server) next(ctx context.Context) msg {
	if !s.watched {
		return s.read()
	}
	select {
	case m := <-s.msgs:
		s.watched = false
		return m
	case <-ctx.Done():
		return msg{err: ctx.Err()}
	}
}

// readOne reads and decodes one frame. It returns a msg with typ 0 and no
// error for a frame it has dealt with itself.
func (s *server) readOne(fr *wire.Reader, stage *wire.FrameType, lastID *uint64) msg {
	typ, p, err := fr.Next()
	if err != nil {
		return msg{err: err}
	}
	if typ == wire.FrameError {
		return msg{err: wire.PeerErrorOf(p)}
	}
	if *stage != wire.FrameJob && typ != *stage {
		return msg{err: wire.Errorf("unexpected %v frame, want %v", typ, *stage)}
	}
	switch typ {
	case wire.FrameHello:
		var h Hello
		if err := wire.Decode(typ, p, &h); err != nil {
			return msg{err: err}
		}
		if err := wire.CheckHello(h); err != nil {
			return msg{err: err}
		}
		*stage = wire.FrameInit
		return msg{}
	case wire.FrameInit:
		m := msg{typ: typ, t: newTask(0)}
		if err := wire.Decode(typ, p, &m.init); err != nil {
			return msg{err: err}
		}
		if err := s.begin(m.t); err != nil {
			return msg{err: err}
		}
		*stage = wire.FrameJob
		return m
	case wire.FrameJob:
		var m msg
		if err := wire.Decode(typ, p, &m.job); err != nil {
			return msg{err: err}
		}
		if m.job.ID <= *lastID {
			return msg{err: wire.Errorf("job id %d after job id %d", m.job.ID, *lastID)}
		}
		*lastID = m.job.ID
		m.typ, m.t = typ, newTask(m.job.ID)
		if err := s.begin(m.t); err != nil {
			return msg{err: err}
		}
		return m
	case wire.FrameCancel, wire.FrameKill:
		if err := s.control(typ, p); err != nil {
			return msg{err: err}
		}
		return msg{}
	}
	return msg{err: wire.Errorf("unexpected %v frame from the runner", typ)}
}

// control acts on a Cancel or Kill frame: it stops the job it names, if
// that job runs.
func (s *server) control(typ wire.FrameType, p []byte) error {
	var ref wire.JobRef
	if err := wire.Decode(typ, p, &ref); err != nil {
		return err
	}
	s.mu.Lock()
	if s.current != nil && s.current.id == ref.ID {
		s.current.stop(typ == wire.FrameKill)
	}
	s.mu.Unlock()
	return nil
}

// begin makes t the running task, which must be the only one.
func (s *server) begin(t *task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return wire.Errorf("a Job frame (id %d) while job %d runs", t.id, s.current.id)
	}
	s.current = t
	if s.aborted {
		t.stop(true)
	}
	return nil
}

// end clears the running task.
func (s *server) end(t *task) {
	s.mu.Lock()
	s.current = nil
	s.mu.Unlock()
	t.cancel()
}

// serve runs the session's Init and jobs as they come.
func (s *server) serve(ctx context.Context) error {
	for {
		m := s.next(ctx)
		switch {
		case m.err != nil && ctx.Err() != nil:
			return ctx.Err()
		case m.err == io.EOF:
			return nil
		case m.err != nil:
			var pe *wire.PeerError
			if !errors.As(m.err, &pe) {
				_ = s.fw.SendError(fmt.Errorf("worker: %w", m.err))
			}
			return fmt.Errorf("pool: worker: %w", m.err)
		case m.typ == wire.FrameInit:
			over := s.watchSoon()
			ready := s.initialize(m.t, m.init)
			over()
			s.describeDir(&ready) // transfer.go
			s.end(m.t)
			if err := s.fw.SendJSON(wire.FrameReady, ready); err != nil {
				return fmt.Errorf("pool: worker: %w", err)
			}
			if ready.Error != "" {
				return fmt.Errorf("pool: worker %s: initializer: %s", m.init.Name, ready.Error)
			}
		case m.typ == wire.FrameJob:
			s.fw.Cork() // until the job has run watchDelay, or is over
			over := s.watchSoon()
			out := s.runJob(m) // transfer.go: s.run, with the job's files
			over()
			s.end(m.t)
			s.fw.Release() // the Outcome takes what is held along
			if err := s.fw.SendJSON(wire.FrameOutcome, wire.OutcomeFrame{ID: m.job.ID, Outcome: out}); err != nil {
				return fmt.Errorf("pool: worker: %w", err)
			}
		}
	}
}

// run runs one job with the state the initializer left.
func (s *server) run(t *task, jf wire.JobFrame) job.Outcome {
	spec := jf.Spec
	spec.Environ = s.environ
	if spec.Dir == "" {
		spec.Dir = s.dir
	}
	jio := JobIO{
		Stdout: chunkWriter{s.fw, wire.FrameStdout},
		Stderr: chunkWriter{s.fw, wire.FrameStderr},
		Kill:   t.kill,
		// Held back, not flushed: the Started frame goes out in one write
		// with the job's first output or its Outcome, or on its own once the
		// job has run for watchDelay (the watcher flushes it). The runner
		// needs the pid only if the worker dies mid-job, to KILL the job's
		// process group; a short job so costs one write and one wakeup of
		// the runner fewer. The price: a worker killed within watchDelay of
		// a job's start, before the job printed anything, leaves the job's
		// background processes to themselves (its main process still dies
		// with the worker: Pdeathsig).
		Started: func(pid int) {
			_ = s.fw.HoldJSON(wire.FrameStarted, wire.StartedFrame{ID: jf.ID, PID: pid})
		},
	}
	return s.opts.Exec(t.ctx, spec, jio)
}

// chunkWriter sends what a job writes as frames of one type.
type chunkWriter struct {
	fw  *wire.Writer
	typ wire.FrameType
}

func (c chunkWriter) Write(p []byte) (int, error) {
	if err := c.fw.Send(c.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// initialize runs the initializer of init, if any, and keeps the
// environment and working directory it leaves.
func (s *server) initialize(t *task, init wire.InitFrame) wire.ReadyFrame {
	if init.Initializer == "" {
		return wire.ReadyFrame{}
	}
	state, err := os.CreateTemp("", "futures-init-*")
	if err != nil {
		return wire.ReadyFrame{Error: fmt.Sprintf("creating the state file: %v", err)}
	}
	defer os.Remove(state.Name())
	defer state.Close()

	// The snippet runs in the shell as it is; then, if it succeeded, the
	// shell writes its working directory and its exported environment,
	// NUL-separated, to the state file. A snippet that exits early leaves
	// the file empty.
	script := init.Initializer + "\n" +
		`__futures_status=$?` + "\n" +
		`if [ "$__futures_status" -eq 0 ]; then { printf '%s\0' "$PWD" && env -0; } > ` + shquote.Quote(state.Name()) + ` || __futures_status=$?; fi` + "\n" +
		`exit "$__futures_status"` + "\n"
	var stderr headBuffer
	out := s.opts.Exec(t.ctx, job.Spec{Line: script, Shell: true, ShellCmd: init.Shell, Env: init.Env, Grace: init.Grace},
		JobIO{Stderr: &stderr, Kill: t.kill})
	fail := func(what string) wire.ReadyFrame {
		return wire.ReadyFrame{Error: what, Stderr: strings.TrimSpace(stderr.String())}
	}
	switch {
	case out.Err != nil:
		return fail(out.Err.Error())
	case out.Signal != "":
		return fail("killed by " + out.Signal)
	case out.ExitCode != 0:
		return fail(fmt.Sprintf("exit status %d", out.ExitCode))
	}
	data, err := io.ReadAll(state)
	if err != nil {
		return fail(fmt.Sprintf("reading the state file: %v", err))
	}
	dir, rest, ok := bytes.Cut(data, []byte{0})
	if !ok || len(dir) == 0 {
		return fail("it exited before its end (with exit?), so the environment it leaves cannot be captured")
	}
	var env []string
	for kv := range bytes.SplitSeq(rest, []byte{0}) {
		k, _, ok := bytes.Cut(kv, []byte("="))
		if !ok || len(k) == 0 || string(k) == "_" {
			continue
		}
		env = append(env, string(kv))
	}
	if len(env) == 0 {
		return fail("env -0 printed no environment")
	}
	s.environ, s.dir = env, string(dir)
	return wire.ReadyFrame{Dir: s.dir}
}

// headBuffer keeps the first 4 KiB written to it.
type headBuffer struct {
	mu sync.Mutex // guards b: the job's two streams may share it
	b  []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := 4096 - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}
