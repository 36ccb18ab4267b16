package pool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/shquote"
)

// session is a test's runner side of an in-process ServeWorker.
type session struct {
	t      *testing.T
	toW    *io.PipeWriter
	fw     *wire.Writer
	fr     *wire.Reader
	cancel context.CancelFunc
	done   chan error // ServeWorker's error
}

// serve starts ServeWorker over pipes with exec as its Exec.
func serve(t *testing.T, exec func(context.Context, job.Spec, JobIO) job.Outcome) *session {
	t.Helper()
	return serveLogged(t, exec, nil)
}

// serveLogged is serve, with every write of the worker to its stdout also
// noted in log (if not nil).
func serveLogged(t *testing.T, exec func(context.Context, job.Spec, JobIO) job.Outcome, log *writeLog) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{t: t, toW: inW, fw: wire.NewWriter(inW), fr: wire.NewReader(outR), cancel: cancel, done: make(chan error, 1)}
	var out io.Writer = outW
	if log != nil {
		log.w = outW
		out = log
	}
	go func() {
		err := ServeWorker(ctx, inR, out, WorkerOptions{Exec: exec})
		outW.Close()
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		outR.Close()
	})
	return s
}

// send sends a frame to the worker; the pipe has no buffer, so it waits for
// the worker to read it.
func (s *session) send(typ wire.FrameType, v any) {
	s.t.Helper()
	var err error
	within(s.t, "sending a "+typ.String()+" frame", func() {
		if p, ok := v.([]byte); ok {
			err = s.fw.Send(typ, p)
		} else {
			err = s.fw.SendJSON(typ, v)
		}
	})
	if err != nil {
		s.t.Fatalf("sending a %v frame: %v", typ, err)
	}
}

// expect reads the next frame, which must be of type want, and decodes it
// into v (a pointer, or nil), returning its payload.
func (s *session) expect(want wire.FrameType, v any) []byte {
	s.t.Helper()
	var typ wire.FrameType
	var p []byte
	var err error
	within(s.t, "waiting for a "+want.String()+" frame", func() { typ, p, err = s.fr.Next() })
	if err != nil {
		s.t.Fatalf("waiting for a %v frame: %v", want, err)
	}
	if typ != want {
		s.t.Fatalf("got a %v frame (%q), want %v", typ, p, want)
	}
	if v != nil {
		if err := wire.Decode(typ, p, v); err != nil {
			s.t.Fatal(err)
		}
	}
	return slices.Clone(p)
}

// handshake goes through Hello and Init; it returns the Ready frame.
func (s *session) handshake(init wire.InitFrame) wire.ReadyFrame {
	s.t.Helper()
	var h Hello
	s.expect(wire.FrameHello, &h)
	if h.Role != "worker" || h.Protocol != wire.ProtocolVersion || h.PID != os.Getpid() {
		s.t.Fatalf("worker hello %+v", h)
	}
	s.send(wire.FrameHello, wire.LocalHello("runner"))
	s.send(wire.FrameInit, init)
	var r wire.ReadyFrame
	s.expect(wire.FrameReady, &r)
	return r
}

// result waits for ServeWorker to return, reading (and dropping) what it
// still writes.
func (s *session) result() error {
	s.t.Helper()
	go func() {
		for {
			if _, _, err := s.fr.Next(); err != nil {
				return
			}
		}
	}()
	var err error
	within(s.t, "ServeWorker to return", func() { err = <-s.done })
	return err
}

// fakeJob is an Exec that runs no process.
func fakeJob(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
	jio.Started(4242)
	io.WriteString(jio.Stdout, "out:"+spec.Line+"\n")
	io.WriteString(jio.Stderr, "err\n")
	return job.Outcome{ExitCode: 3, Start: time.Now(), Duration: time.Millisecond}
}

func TestServeWorkerRunsJobsAndStreamsTheirOutput(t *testing.T) {
	s := serve(t, fakeJob)
	if r := s.handshake(wire.InitFrame{Name: "worker_0"}); r.Error != "" {
		t.Fatalf("Ready %+v", r)
	}
	for id := uint64(1); id <= 2; id++ {
		s.send(wire.FrameJob, wire.JobFrame{ID: id, Spec: job.Spec{Line: "hello"}})
		var st wire.StartedFrame
		s.expect(wire.FrameStarted, &st)
		if st != (wire.StartedFrame{ID: id, PID: 4242}) {
			t.Fatalf("Started %+v", st)
		}
		if p := s.expect(wire.FrameStdout, nil); string(p) != "out:hello\n" {
			t.Fatalf("stdout %q", p)
		}
		if p := s.expect(wire.FrameStderr, nil); string(p) != "err\n" {
			t.Fatalf("stderr %q", p)
		}
		var o wire.OutcomeFrame
		s.expect(wire.FrameOutcome, &o)
		if o.ID != id || o.ExitCode != 3 {
			t.Fatalf("Outcome %+v", o)
		}
	}
	s.toW.Close()
	if err := s.result(); err != nil {
		t.Fatalf("ServeWorker after stdin closed between jobs: %v, want nil", err)
	}
}

// stoppable is an Exec that runs until its ctx ends, then until kill is
// closed, and reports what it saw.
type stoppable struct {
	running chan struct{}
	mu      sync.Mutex
	seen    []string
}

func newStoppable() *stoppable { return &stoppable{running: make(chan struct{}, 1)} }

func (x *stoppable) exec(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
	x.running <- struct{}{}
	<-ctx.Done()
	x.note("cancelled")
	<-jio.Kill
	x.note("killed")
	return job.Outcome{ExitCode: 137, Signal: "SIGKILL", Canceled: true}
}

func (x *stoppable) note(s string) {
	x.mu.Lock()
	x.seen = append(x.seen, s)
	x.mu.Unlock()
}

func (x *stoppable) saw() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.seen)
}

func TestServeWorkerCancelsThenKillsTheJobTheRunnerNames(t *testing.T) {
	x := newStoppable()
	s := serve(t, x.exec)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 5, Spec: job.Spec{Line: "sleep"}})
	within(t, "the job to start", func() { <-x.running })
	s.send(wire.FrameCancel, wire.JobRef{ID: 4}) // not the running job: ignored
	s.send(wire.FrameCancel, wire.JobRef{ID: 5})
	waitFor(t, "the job to be cancelled", func() bool { return len(x.saw()) == 1 })
	s.send(wire.FrameKill, wire.JobRef{ID: 5})
	var o wire.OutcomeFrame
	s.expect(wire.FrameOutcome, &o)
	if o.ID != 5 || !o.Canceled || o.Signal != "SIGKILL" {
		t.Fatalf("Outcome %+v", o)
	}
	if got := x.saw(); !slices.Equal(got, []string{"cancelled", "killed"}) {
		t.Fatalf("the job saw %v", got)
	}
	// A late Cancel for a job that is over is ignored.
	s.send(wire.FrameCancel, wire.JobRef{ID: 5})
	s.toW.Close()
	if err := s.result(); err != nil {
		t.Fatal(err)
	}
}

func TestServeWorkerKillsTheJobWhenItsStdinClosesMidJob(t *testing.T) {
	x := newStoppable()
	s := serve(t, x.exec)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "sleep"}})
	within(t, "the job to start", func() { <-x.running })
	s.toW.Close()
	err := s.result()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ServeWorker = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := x.saw(); !slices.Equal(got, []string{"cancelled", "killed"}) {
		t.Fatalf("the job saw %v", got)
	}
}

func TestServeWorkerKillsTheJobAndReturnsWhenItsContextEnds(t *testing.T) {
	x := newStoppable()
	s := serve(t, x.exec)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "sleep"}})
	within(t, "the job to start", func() { <-x.running })
	s.cancel()
	if err := s.result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeWorker = %v, want context.Canceled", err)
	}
	if got := x.saw(); !slices.Equal(got, []string{"cancelled", "killed"}) {
		t.Fatalf("the job saw %v", got)
	}
}

func TestServeWorkerRefusesARunnerOfAnotherProtocolVersion(t *testing.T) {
	s := serve(t, fakeJob)
	s.expect(wire.FrameHello, nil)
	h := wire.LocalHello("runner")
	h.Protocol = wire.ProtocolVersion + 1
	s.send(wire.FrameHello, h)
	var ef wire.ErrorFrame
	s.expect(wire.FrameError, &ef)
	if !strings.Contains(ef.Message, "version mismatch") || !strings.Contains(ef.Message, "runner") {
		t.Fatalf("Error frame %q", ef.Message)
	}
	if err := s.result(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ServeWorker = %v, want ErrProtocol", err)
	}
}

func TestServeWorkerReportsAGarbledFrameAndStops(t *testing.T) {
	s := serve(t, fakeJob)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	within(t, "writing garbage", func() { _, _ = s.toW.Write([]byte("\xff\xff\xff\xff\x10garbage")) })
	var ef wire.ErrorFrame
	s.expect(wire.FrameError, &ef)
	if !strings.Contains(ef.Message, "exceeds") {
		t.Fatalf("Error frame %q", ef.Message)
	}
	if err := s.result(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ServeWorker = %v, want ErrProtocol", err)
	}
}

func TestServeWorkerRefusesFramesOutOfOrder(t *testing.T) {
	t.Run("a job before Init", func(t *testing.T) {
		s := serve(t, fakeJob)
		s.expect(wire.FrameHello, nil)
		s.send(wire.FrameHello, wire.LocalHello("runner"))
		s.send(wire.FrameJob, wire.JobFrame{ID: 1})
		var ef wire.ErrorFrame
		s.expect(wire.FrameError, &ef)
		if !strings.Contains(ef.Message, "unexpected Job frame, want Init") {
			t.Fatalf("Error frame %q", ef.Message)
		}
		if err := s.result(); !errors.Is(err, ErrProtocol) {
			t.Fatalf("ServeWorker = %v", err)
		}
	})
	t.Run("a second job while one runs", func(t *testing.T) {
		x := newStoppable()
		s := serve(t, x.exec)
		s.handshake(wire.InitFrame{Name: "worker_0"})
		s.send(wire.FrameJob, wire.JobFrame{ID: 1})
		within(t, "the job to start", func() { <-x.running })
		s.send(wire.FrameJob, wire.JobFrame{ID: 2})
		// The running job is killed; its outcome, then the error, go out.
		s.expect(wire.FrameOutcome, nil)
		var ef wire.ErrorFrame
		s.expect(wire.FrameError, &ef)
		if !strings.Contains(ef.Message, "while job 1 runs") {
			t.Fatalf("Error frame %q", ef.Message)
		}
		if err := s.result(); !errors.Is(err, ErrProtocol) {
			t.Fatalf("ServeWorker = %v", err)
		}
	})
}

func TestServeWorkerKeepsTheStateTheInitializerLeaves(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "it's here")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var specs []job.Spec
	exec := func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		mu.Lock()
		specs = append(specs, spec)
		mu.Unlock()
		return testExec(ctx, spec, jio)
	}
	s := serve(t, exec)
	r := s.handshake(wire.InitFrame{Name: "worker_0", Initializer: "export GREETING='hi there'; cd " + shquote.Quote(sub) + "; unexported=1",
		Env: []string{"FUTURES_WORKER=worker_0"}})
	if r.Error != "" || r.Dir != sub {
		t.Fatalf("Ready %+v, want Dir %q", r, sub)
	}
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "echo \"$GREETING|$unexported|$FUTURES_WORKER|$FUTURES_SEQ|$(pwd)\"", Shell: true, Env: []string{"FUTURES_SEQ=1"}}})
	s.expect(wire.FrameStarted, nil)
	out := s.expect(wire.FrameStdout, nil)
	s.expect(wire.FrameOutcome, nil)
	if want := "hi there||worker_0|1|" + sub + "\n"; string(out) != want {
		t.Fatalf("the job printed %q, want %q", out, want)
	}
	mu.Lock()
	job := specs[len(specs)-1]
	mu.Unlock()
	if job.Dir != sub || !slices.Contains(job.Environ, "GREETING=hi there") || slices.ContainsFunc(job.Environ, func(kv string) bool { return strings.HasPrefix(kv, "_=") }) {
		t.Fatalf("the job's spec: Dir %q, Environ %q", job.Dir, job.Environ)
	}
}

func TestServeWorkerReportsAFailingInitializer(t *testing.T) {
	tests := []struct {
		name, snippet string
		want          wire.ReadyFrame
	}{
		{"a non-zero exit", "echo no token >&2; false", wire.ReadyFrame{Error: "exit status 1", Stderr: "no token"}},
		{"an exit before its end", "exit 0", wire.ReadyFrame{Error: "it exited before its end (with exit?), so the environment it leaves cannot be captured"}},
		{"a syntax error", "if then", wire.ReadyFrame{Error: "exit status 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, testExec)
			r := s.handshake(wire.InitFrame{Name: "worker_0", Initializer: tt.snippet})
			if r.Error != tt.want.Error || (tt.want.Stderr != "" && r.Stderr != tt.want.Stderr) {
				t.Fatalf("Ready %+v, want %+v", r, tt.want)
			}
			if err := s.result(); err == nil || !strings.Contains(err.Error(), "initializer") {
				t.Fatalf("ServeWorker = %v, want an initializer error", err)
			}
		})
	}
}

// writeLog passes writes on to w and notes the types of the frames each
// one carries (each write must hold whole frames), and when it was made.
type writeLog struct {
	w      io.Writer
	mu     sync.Mutex
	writes [][]wire.FrameType
	at     []time.Time
}

func (l *writeLog) Write(p []byte) (int, error) {
	var types []wire.FrameType
	for q := p; len(q) >= 5; {
		n := 5 + int(binary.BigEndian.Uint32(q[:4]))
		types = append(types, wire.FrameType(q[4]))
		q = q[min(n, len(q)):]
	}
	l.mu.Lock()
	l.writes = append(l.writes, types)
	l.at = append(l.at, time.Now())
	l.mu.Unlock()
	return l.w.Write(p)
}

// mark returns the number of writes so far, and the time: call it just
// before sending a job, and pass both to wentOutTogether.
func (l *writeLog) mark() (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes), time.Now()
}

// wentOutTogether checks that the last write since mark carried want: the
// frames a worker holds (corks) while a job has run less than watchDelay.
// Holding them is bounded by watchDelay, a wall-clock time: on a loaded
// machine the job's goroutine may be descheduled for longer, and the
// watcher then rightly sends what is held. So frames sent apart are a fault
// only if the first of those writes came before watchDelay had passed since
// the job was sent (sent): the watcher's timer, started after that, cannot
// have fired yet, and nothing may go out before it fires or the job ends.
func (l *writeLog) wentOutTogether(t *testing.T, mark int, sent time.Time, what string, want []wire.FrameType) {
	t.Helper()
	l.mu.Lock()
	writes, at := l.writes[mark:], l.at[mark:]
	l.mu.Unlock()
	if len(writes) > 0 && slices.Equal(writes[len(writes)-1], want) {
		return
	}
	if len(at) > 0 && at[0].Sub(sent) >= watchDelay {
		t.Logf("%s: the frames went out in the writes %v, the first %v after the job was sent: past watchDelay (%v), which a loaded machine may take", what, writes, at[0].Sub(sent), watchDelay)
		return
	}
	t.Fatalf("%s: the writes carried %v, the last not %v (one write: over ssh or srun a second small write waits for a delayed ACK)", what, writes, want)
}

func TestAShortJobsStartedFrameGoesOutInOneWriteWithItsOutcome(t *testing.T) {
	log := &writeLog{}
	s := serveLogged(t, func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		jio.Started(4242)
		return job.Outcome{ExitCode: 0}
	}, log)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	for id := uint64(1); id <= 3; id++ {
		mark, sent := log.mark()
		s.send(wire.FrameJob, wire.JobFrame{ID: id, Spec: job.Spec{Line: "true"}})
		var st wire.StartedFrame
		s.expect(wire.FrameStarted, &st)
		if st != (wire.StartedFrame{ID: id, PID: 4242}) {
			t.Fatalf("Started %+v", st)
		}
		s.expect(wire.FrameOutcome, nil)
		log.wentOutTogether(t, mark, sent, fmt.Sprintf("job %d", id), []wire.FrameType{wire.FrameStarted, wire.FrameOutcome})
	}
}

func TestAShortJobsOutputStartedAndOutcomeGoOutInOneWrite(t *testing.T) {
	log := &writeLog{}
	s := serveLogged(t, func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		jio.Started(4242)
		io.WriteString(jio.Stdout, "out\n")
		io.WriteString(jio.Stderr, "err\n")
		return job.Outcome{ExitCode: 0}
	}, log)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	for id := uint64(1); id <= 3; id++ {
		mark, sent := log.mark()
		s.send(wire.FrameJob, wire.JobFrame{ID: id, Spec: job.Spec{Line: "echo out; echo err >&2"}})
		s.expect(wire.FrameStarted, nil)
		if p := s.expect(wire.FrameStdout, nil); string(p) != "out\n" {
			t.Fatalf("stdout %q", p)
		}
		if p := s.expect(wire.FrameStderr, nil); string(p) != "err\n" {
			t.Fatalf("stderr %q", p)
		}
		s.expect(wire.FrameOutcome, nil)
		log.wentOutTogether(t, mark, sent, fmt.Sprintf("job %d", id), []wire.FrameType{wire.FrameStarted, wire.FrameStdout, wire.FrameStderr, wire.FrameOutcome})
	}
}

func TestAJobsStartedFrameGoesOutWithItsFirstOutput(t *testing.T) {
	log := &writeLog{}
	release := make(chan struct{})
	s := serveLogged(t, func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		jio.Started(4242)
		io.WriteString(jio.Stderr, "first\n")
		<-release // longer than startedDelay, but the frame is already out
		return job.Outcome{ExitCode: 0}
	}, log)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	mark, sent := log.mark()
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "echo first >&2; sleep 1"}})
	var st wire.StartedFrame
	s.expect(wire.FrameStarted, &st)
	if p := s.expect(wire.FrameStderr, nil); string(p) != "first\n" || st.PID != 4242 {
		t.Fatalf("Started %+v, stderr %q", st, p)
	}
	log.wentOutTogether(t, mark, sent, "job 1", []wire.FrameType{wire.FrameStarted, wire.FrameStderr})
	close(release)
	s.expect(wire.FrameOutcome, nil)
}

func TestAJobThatRunsOnSilentlyHasItsStartedFrameSentAlone(t *testing.T) {
	release := make(chan struct{})
	s := serve(t, func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		jio.Started(4242)
		if spec.Line == "sleep 1" {
			<-release
		}
		return job.Outcome{ExitCode: 0}
	})
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "sleep 1"}})
	// The job is still running: the frame went out after watchDelay.
	var st wire.StartedFrame
	s.expect(wire.FrameStarted, &st)
	if st != (wire.StartedFrame{ID: 1, PID: 4242}) {
		t.Fatalf("Started %+v", st)
	}
	close(release)
	var o wire.OutcomeFrame
	s.expect(wire.FrameOutcome, &o)
	// The next job's frame is read by the watcher of the first one, and
	// handed over.
	s.send(wire.FrameJob, wire.JobFrame{ID: 2, Spec: job.Spec{Line: "true"}})
	s.expect(wire.FrameStarted, &st)
	s.expect(wire.FrameOutcome, &o)
	if st.ID != 2 || o.ID != 2 {
		t.Fatalf("Started %+v, Outcome %+v; want job 2", st, o)
	}
	s.toW.Close()
	if err := s.result(); err != nil {
		t.Fatal(err)
	}
}

func TestServeWorkerReturnsWhenItsContextEndsBetweenJobs(t *testing.T) {
	s := serve(t, fakeJob)
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "x"}})
	s.expect(wire.FrameStarted, nil)
	s.expect(wire.FrameStdout, nil)
	s.expect(wire.FrameStderr, nil)
	s.expect(wire.FrameOutcome, nil)
	// ServeWorker now waits for the next frame, in a Read of its own.
	s.cancel()
	if err := s.result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeWorker = %v, want context.Canceled", err)
	}
}
