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
)

// WorkerOptions configures [ServeWorker].
type WorkerOptions struct {
	// Exec runs one job (or the initializer, as a shell job) and returns
	// once the job's main process has exited and its output has been
	// written to jio.Stdout and jio.Stderr. When ctx ends it stops the job:
	// TERM to its process group, KILL after spec.Grace, or at once when
	// jio.Kill is closed. It calls jio.Started with the pid of the job's
	// main process, the leader of the job's process group, once that has
	// started. It must not write to the worker's stdout. Required;
	// cmd/worker.go wires it to runner.Exec.
	Exec func(ctx context.Context, spec JobSpec, jio JobIO) JobOutcome
}

// JobIO is where a job's output goes and how a worker stops it; see
// [WorkerOptions.Exec].
type JobIO struct {
	Stdout, Stderr io.Writer       // the job's output; nil discards it
	Kill           <-chan struct{} // closed: KILL the job now rather than after its grace
	Started        func(pid int)   // called once the job's process group leader has started
}

// ServeWorker is the worker side of the protocol (see protocol.go): it
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
// io.ErrUnexpectedEOF.
// When ctx ends, it KILLs the running job and returns ctx.Err(). A garbled
// frame is an error, sent to the runner in an Error frame as well.
//
// ServeWorker reads in from a goroutine of its own, which it waits for
// before it returns: if in is an io.Closer, ServeWorker closes it to end
// that goroutine's Read (give it a reader whose Close does, like a pipe
// from os.Pipe); otherwise ServeWorker waits for in's next Read to return.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, opts WorkerOptions) error {
	if opts.Exec == nil {
		return errors.New("pool: ServeWorker: nil Exec")
	}
	s := &server{opts: opts, fw: newFrameWriter(out), msgs: make(chan msg), quit: make(chan struct{})}
	if err := s.fw.sendJSON(FrameHello, localHello("worker")); err != nil {
		return fmt.Errorf("pool: worker: writing hello: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.read(newFrameReader(in)) })
	stopAbort := context.AfterFunc(ctx, s.abort)
	err := s.serve(ctx)
	stopAbort()
	close(s.quit)
	if c, ok := in.(io.Closer); ok {
		_ = c.Close()
	}
	wg.Wait()
	return err
}

// server is one session of ServeWorker.
type server struct {
	opts WorkerOptions
	fw   *frameWriter
	msgs chan msg      // frames for serve, from read
	quit chan struct{} // closed when serve has returned

	environ []string // the environment the initializer left; nil: the worker's own
	dir     string   // the directory it left; "": the worker's own

	mu      sync.Mutex // guards current and aborted
	current *task      // the job (or initializer) running, or nil
	aborted bool       // ctx ended or in ended: kill what runs, start nothing
}

// msg is a frame read and decoded, or the error that ended the reading.
type msg struct {
	typ   FrameType
	init  InitFrame
	job   JobFrame
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

// read reads frames until in ends, checking the order of the session (Hello,
// Init, then jobs one at a time), acting on Cancel and Kill itself and
// handing the rest to serve. It sends serve the error that ends it.
func (s *server) read(fr *frameReader) {
	stage := FrameHello
	var lastID uint64
	for {
		m := s.readOne(fr, &stage, &lastID)
		if m.typ == FrameJob && m.err == nil {
			m = s.receiveFiles(fr, m)
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
			select {
			case s.msgs <- m:
			case <-s.quit:
				return
			}
		}
		if m.err != nil {
			return
		}
	}
}

// readOne reads and decodes one frame. It returns a msg with typ 0 and no
// error for a frame it has dealt with itself.
func (s *server) readOne(fr *frameReader, stage *FrameType, lastID *uint64) msg {
	typ, p, err := fr.next()
	if err != nil {
		return msg{err: err}
	}
	if typ == FrameError {
		return msg{err: peerError(p)}
	}
	if *stage != FrameJob && typ != *stage {
		return msg{err: protocolErrorf("unexpected %v frame, want %v", typ, *stage)}
	}
	switch typ {
	case FrameHello:
		var h Hello
		if err := decode(typ, p, &h); err != nil {
			return msg{err: err}
		}
		if err := checkHello(h); err != nil {
			return msg{err: err}
		}
		*stage = FrameInit
		return msg{}
	case FrameInit:
		m := msg{typ: typ, t: newTask(0)}
		if err := decode(typ, p, &m.init); err != nil {
			return msg{err: err}
		}
		if err := s.begin(m.t); err != nil {
			return msg{err: err}
		}
		*stage = FrameJob
		return m
	case FrameJob:
		var m msg
		if err := decode(typ, p, &m.job); err != nil {
			return msg{err: err}
		}
		if m.job.ID <= *lastID {
			return msg{err: protocolErrorf("job id %d after job id %d", m.job.ID, *lastID)}
		}
		*lastID = m.job.ID
		m.typ, m.t = typ, newTask(m.job.ID)
		if err := s.begin(m.t); err != nil {
			return msg{err: err}
		}
		return m
	case FrameCancel, FrameKill:
		if err := s.control(typ, p); err != nil {
			return msg{err: err}
		}
		return msg{}
	}
	return msg{err: protocolErrorf("unexpected %v frame from the runner", typ)}
}

// control acts on a Cancel or Kill frame: it stops the job it names, if
// that job runs.
func (s *server) control(typ FrameType, p []byte) error {
	var ref JobRef
	if err := decode(typ, p, &ref); err != nil {
		return err
	}
	s.mu.Lock()
	if s.current != nil && s.current.id == ref.ID {
		s.current.stop(typ == FrameKill)
	}
	s.mu.Unlock()
	return nil
}

// begin makes t the running task, which must be the only one.
func (s *server) begin(t *task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return protocolErrorf("a Job frame (id %d) while job %d runs", t.id, s.current.id)
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

// serve runs the session's Init and jobs as read hands them over.
func (s *server) serve(ctx context.Context) error {
	for {
		var m msg
		select {
		case m = <-s.msgs:
		case <-ctx.Done():
			return ctx.Err()
		}
		switch {
		case m.err == io.EOF:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		case m.err != nil:
			var pe *PeerError
			if !errors.As(m.err, &pe) {
				_ = s.fw.sendError(fmt.Errorf("worker: %w", m.err))
			}
			return fmt.Errorf("pool: worker: %w", m.err)
		case m.typ == FrameInit:
			ready := s.initialize(m.t, m.init)
			s.describeDir(&ready) // transfer.go
			s.end(m.t)
			if err := s.fw.sendJSON(FrameReady, ready); err != nil {
				return fmt.Errorf("pool: worker: %w", err)
			}
			if ready.Error != "" {
				return fmt.Errorf("pool: worker %s: initializer: %s", m.init.Name, ready.Error)
			}
		case m.typ == FrameJob:
			out := s.runJob(m)
			s.end(m.t)
			if err := s.fw.sendJSON(FrameOutcome, OutcomeFrame{ID: m.job.ID, JobOutcome: out}); err != nil {
				return fmt.Errorf("pool: worker: %w", err)
			}
		}
	}
}

// run runs one job with the state the initializer left.
func (s *server) run(t *task, jf JobFrame) JobOutcome {
	spec := jf.JobSpec
	spec.Environ = s.environ
	if spec.Dir == "" {
		spec.Dir = s.dir
	}
	jio := JobIO{
		Stdout: chunkWriter{s.fw, FrameStdout},
		Stderr: chunkWriter{s.fw, FrameStderr},
		Kill:   t.kill,
		// Flushed at once, not with the job's first output: should the
		// worker die mid-job, the runner must know which group to kill.
		Started: func(pid int) {
			_ = s.fw.sendJSON(FrameStarted, StartedFrame{ID: jf.ID, PID: pid})
		},
	}
	return s.opts.Exec(t.ctx, spec, jio)
}

// chunkWriter sends what a job writes as frames of one type.
type chunkWriter struct {
	fw  *frameWriter
	typ FrameType
}

func (c chunkWriter) Write(p []byte) (int, error) {
	if err := c.fw.send(c.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// initialize runs the initializer of init, if any, and keeps the
// environment and working directory it leaves.
func (s *server) initialize(t *task, init InitFrame) ReadyFrame {
	if init.Initializer == "" {
		return ReadyFrame{}
	}
	state, err := os.CreateTemp("", "futures-init-*")
	if err != nil {
		return ReadyFrame{Error: fmt.Sprintf("creating the state file: %v", err)}
	}
	defer os.Remove(state.Name())
	defer state.Close()

	// The snippet runs in the shell as it is; then, if it succeeded, the
	// shell writes its working directory and its exported environment,
	// NUL-separated, to the state file. A snippet that exits early leaves
	// the file empty.
	script := init.Initializer + "\n" +
		`__futures_status=$?` + "\n" +
		`if [ "$__futures_status" -eq 0 ]; then { printf '%s\0' "$PWD" && env -0; } > ` + shellQuote(state.Name()) + ` || __futures_status=$?; fi` + "\n" +
		`exit "$__futures_status"` + "\n"
	var stderr headBuffer
	out := s.opts.Exec(t.ctx, JobSpec{Line: script, Shell: true, ShellCmd: init.Shell, Env: init.Env, Grace: init.Grace},
		JobIO{Stderr: &stderr, Kill: t.kill})
	fail := func(what string) ReadyFrame {
		return ReadyFrame{Error: what, Stderr: strings.TrimSpace(stderr.String())}
	}
	switch {
	case out.Error != "":
		return fail(out.Error)
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
	return ReadyFrame{Dir: s.dir}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
