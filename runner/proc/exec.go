// Package proc runs one job as a process: Exec starts it in a process
// group of its own and returns its job.Outcome; the orphan sweep (guard.go)
// kills what a run's jobs leave behind.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/pgroup"
	"github.com/futures-cli/futures/runner/internal/copybuf"
	"github.com/futures-cli/futures/runner/shell"
)

// ErrNotFound is wrapped by job.Outcome.Err when a job's program does not
// exist (exit code 127, as a shell reports it): job.ErrNotFound.
var ErrNotFound = job.ErrNotFound

// ErrNotExecutable is wrapped by job.Outcome.Err when a job's program
// exists but cannot be executed (exit code 126, as a shell reports it):
// job.ErrNotExecutable.
var ErrNotExecutable = job.ErrNotExecutable

// ExecOptions says how Exec starts a job and where its output goes.
type ExecOptions struct {
	// Shell runs a Command whose Shell is true, with Line appended as its
	// last argument. Empty: /bin/sh -c.
	Shell []string
	// Env holds extra KEY=VALUE entries (FUTURES_SEQ, FUTURES_SLOT,
	// FUTURES_WORKER…). They are added to the runner's environment and
	// replace an entry of the same key there.
	Env []string
	// Dir is the job's working directory; "" is the runner's.
	Dir string
	// Stdin is the job's standard input; nil is /dev/null. An *os.File is
	// handed to the job as it is; any other reader is copied into a pipe by
	// a goroutine that Exec waits for, so its Read must not block for ever
	// once the job has ended.
	Stdin io.Reader
	// Stdout and Stderr receive the job's output; nil discards it. An
	// *os.File is handed to the job as it is, with no copy (--output
	// ungroup). Any other writer is fed from a pipe by a goroutine that Exec
	// owns and waits for; the same writer for both shares one pipe, so the
	// order of the two streams is kept.
	Stdout, Stderr io.Writer
	// Grace is the time between TERM and KILL once ctx ends; 0 kills at
	// once.
	Grace time.Duration
	// Kill, once closed, makes Exec KILL a job that ctx has asked to stop,
	// without waiting for Grace (the second Ctrl-C). It is watched from the
	// moment ctx ends, and the first Ctrl-C is what ends ctx.
	Kill <-chan struct{}
	// Environ, if not nil, is the job's whole base environment in place of
	// the runner's (a process-pool worker's, as its initializer left it):
	// Env is applied on top of it, and the program is looked up in its
	// PATH.
	Environ []string
	// Started, if not nil, is called with the pid of the job's main
	// process, the leader of its process group, once it has started and
	// before any of its output is passed on to Stdout or Stderr.
	Started func(pid int)
	// Inline, if true, has Exec read the job's output pipes itself, in the
	// calling goroutine, waiting on them and on the job's exit with
	// poll(2), rather than with a goroutine per pipe on the runtime's
	// poller (see exec_inline.go). A process that runs one job at a time
	// (a process-pool worker) so wakes fewer threads per job; one that runs
	// many at once waits on the runtime's poller instead where it can
	// (Linux), also inline, and otherwise uses the goroutines. With a Stdin
	// reader to feed, Exec uses the goroutines anyway.
	Inline bool
	// Refusable, if true, has Exec return at once, having written
	// nothing, when the system refuses to start the job for lack of a
	// resource (too many open files or processes: EMFILE, ENFILE, EAGAIN,
	// making a pipe or forking): job.Outcome.Refused then names the
	// errno, and the caller may start the job again once another job has
	// freed what it held (runner/limit.go). Otherwise that is a start
	// failure like any other, exit code 126.
	Refusable bool
}

// drainDelay bounds how long Exec keeps reading a job's output after its
// process group is gone: only a process that left the group (setsid) can
// hold the pipe open that long.
const drainDelay = 2 * time.Second

// devNull returns /dev/null, opened once per process and shared by every
// job: it is the stdin of all of them and the stdout/stderr of those whose
// output is discarded. A failure to open it is not kept: the next job tries
// again (EMFILE passes).
func devNull() (*os.File, error) {
	devNullMu.Lock()
	defer devNullMu.Unlock()
	if devNullFile == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		devNullFile = f
	}
	return devNullFile, nil
}

var (
	devNullMu   sync.Mutex
	devNullFile *os.File // guarded by devNullMu
)

// Exec runs one job and returns when its main process has exited and its
// output has been delivered to o.Stdout and o.Stderr.
//
// A job is its process group: it starts in a group of its own
// (Setpgid), and everything it starts belongs to that group unless it
// detaches on purpose (setsid). When ctx ends, Exec sends TERM to the whole
// group, then KILL after o.Grace (at once when o.Kill is closed). When the
// main process exits, Exec KILLs what is left of the group: background
// processes a job forgot about do not outlive it, and none of them can keep
// the output pipe open and hang the runner. A job that means to leave a
// daemon behind detaches it with setsid (and should redirect its output: a
// detached process still holding the job's output is waited for at most
// 2 s after the job ends, then Exec stops reading and reports it in Err).
// Pdeathsig KILLs the main process if the runner dies.
//
// The cost per job is the fork/exec, a wait and the pipes: the program's
// path is looked up once per name (while PATH is unchanged), /dev/null is
// opened once per process, and while the job runs Exec's goroutine is
// parked (Linux: the job's pipes and pidfd in an epoll set that all running
// jobs share, on the runtime's poller, netpoll_linux.go) holding no read
// buffer and no thread, and the runner holds three descriptors for it: its
// two pipes and its pidfd (each exec copies every descriptor the runner
// holds, then closes it). Elsewhere, and with a Stdin reader to feed, each output pipe has
// a reader goroutine; one more goroutine exists only once ctx has ended.
func Exec(ctx context.Context, c shell.Command, o ExecOptions) job.Outcome {
	r, out := begin(ctx, c, o)
	if r == nil {
		return out
	}
	return r.end(r.wait())
}

// running is a job between its start (begin) and its end (end).
type running struct {
	p     plumbing
	argv0 string
	pid   int
	pidfd int // -1: none
	start time.Time
	g     *pgroup.Group
}

// begin starts c as Exec does and returns the running job; or nil and the
// outcome of a job that did not start, everything it made released.
func begin(ctx context.Context, c shell.Command, o ExecOptions) (*running, job.Outcome) {
	if err := ctx.Err(); err != nil {
		return nil, job.Outcome{ExitCode: -1, Canceled: true, Err: fmt.Errorf("not started: %w", err)}
	}
	argv := c.Argv
	if shell.RunsFunction(c, o.Environ) {
		// An exported bash function (runner/shell/bashfunc.go): only bash knows it.
		argv = []string{"bash", "-c", c.Line}
	} else if c.Shell {
		sh := o.Shell
		if len(sh) == 0 {
			sh = shell.DefaultShell
		}
		argv = append(append(make([]string, 0, len(sh)+1), sh...), c.Line)
	}
	if len(argv) == 0 {
		return nil, startFailed(o.Stderr, 127, fmt.Errorf("empty command: %w", ErrNotFound))
	}
	path, err := lookPath(argv[0], o.Environ)
	if err != nil {
		code, err := classify(argv[0], "", "", err)
		return nil, startFailed(o.Stderr, code, err)
	}
	null, err := devNull()
	if err != nil {
		return nil, o.startFailed(126, fmt.Errorf("opening %s: %w", os.DevNull, err))
	}

	r := &running{argv0: argv[0], pidfd: -1}
	p := &r.p
	files, err := p.setup(o, null)
	if err != nil {
		p.closeAll()
		return nil, o.startFailed(126, fmt.Errorf("%s: %w", argv[0], err))
	}
	attr := &os.ProcAttr{
		Dir:   o.Dir,
		Env:   environ(o.Environ, o.Env, o.Dir),
		Files: files,
		Sys:   pgroup.Attr(syscall.SIGKILL),
	}
	r.start = time.Now()
	r.pid, r.pidfd, err = startProcess(path, argv, attr)
	if err != nil && path != argv[0] && errors.Is(err, syscall.ENOENT) {
		// The program found earlier is gone: look it up afresh, once.
		lookups.Delete(argv[0])
		if path, err = lookPath(argv[0], o.Environ); err == nil {
			r.start = time.Now()
			r.pid, r.pidfd, err = startProcess(path, argv, attr)
		}
	}
	if errno := pool.Refusal(err); errno != 0 && !errors.Is(err, errno) {
		err = &os.PathError{Op: "fork/exec", Path: path, Err: errno} // EBADF: see pool.Refusal
	}
	p.closeChildEnds()
	if err != nil {
		p.closeAll()
		code, err := classify(argv[0], path, o.Dir, err)
		return nil, o.startFailed(code, err)
	}
	// Started first: a worker sends its Started frame from it, and the
	// protocol has it come before the job's first output.
	if o.Started != nil {
		o.Started(r.pid)
	}
	p.startCopying()
	r.g = pgroup.Watch(ctx, r.pid, o.Grace, o.Kill)
	return r, job.Outcome{}
}

// wait blocks until the job's main process has exited, reading its raw
// pipes meanwhile; it returns the process's status if the wait reaped it,
// or nil (a zombie left for end to reap).
func (r *running) wait() *exitStatus {
	done, st := r.p.pumpUntilExit(r.pid, r.pidfd)
	if !done {
		st = waitExit(r.pid, r.pidfd)
	}
	return st
}

// end finishes a job whose main process has exited (st: its status, or
// nil if not yet reaped): it KILLs what is left of its group, reaps it,
// waits for its output to be delivered, releases what it held, and
// returns its outcome.
func (r *running) end(st *exitStatus) job.Outcome {
	p := &r.p
	defer p.closeAll()
	if r.pidfd >= 0 {
		defer syscall.Close(r.pidfd)
	}
	end := time.Now()
	canceled := r.g.Reap()
	if st == nil {
		// A zombie (Linux): reap it now that its group is gone. The
		// portable wait has reaped it already.
		st = wait4(r.pid)
	}
	waitErr := st.err

	errs := p.finish()
	out := job.Outcome{Start: r.start, Duration: end.Sub(r.start), ExitCode: -1, Canceled: canceled}
	if waitErr != nil {
		errs = append([]error{fmt.Errorf("waiting for %s: %w", r.argv0, waitErr)}, errs...)
	}
	if waitErr == nil {
		switch ws := st.ws; {
		case ws.Signaled():
			out.ExitCode = 128 + int(ws.Signal())
			out.Signal = job.SignalName(ws.Signal())
		default:
			out.ExitCode = ws.ExitStatus()
		}
		out.MaxRSSKB = maxRSSKB(&st.ru)
		out.User = time.Duration(st.ru.Utime.Nano())
		out.Sys = time.Duration(st.ru.Stime.Nano())
	}
	out.Err = errors.Join(errs...)
	return out
}

// startFailed reports a job that could not be started, as startFailed
// does, or as Refused when the system refused a resource and o is
// Refusable.
func (o *ExecOptions) startFailed(code int, err error) job.Outcome {
	if errno := pool.Refusal(err); errno != 0 && o.Refusable {
		return job.Outcome{ExitCode: -1, Err: err, Refused: errno, Start: time.Now()}
	}
	return startFailed(o.Stderr, code, err)
}

// startFailed reports a job that could not be started: its message goes to
// the job's stderr, as a shell would print it.
func startFailed(stderr io.Writer, code int, err error) job.Outcome {
	out := job.Outcome{ExitCode: code, Err: err, Start: time.Now()}
	if stderr != nil {
		if _, werr := io.WriteString(stderr, "futures: "+err.Error()+"\n"); werr != nil {
			out.Err = errors.Join(err, fmt.Errorf("writing output: %w", werr))
		}
	}
	return out
}

// classify turns a failure to start name (found at path, run in dir) into
// an exit code and an error, as a shell would: 127 not found, 126 cannot
// execute.
func classify(name, path, dir string, err error) (int, error) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		if errors.Is(err, exec.ErrNotFound) {
			return 127, fmt.Errorf("%s: %w", name, ErrNotFound)
		}
		return 126, fmt.Errorf("%s: %w", name, err)
	}
	switch errno {
	case syscall.ENOENT, syscall.ENOTDIR:
		// The same errno says the directory is missing, or the program,
		// or the interpreter a script names: tell them apart on this
		// (rare) path.
		if dir != "" {
			if _, serr := os.Stat(dir); serr != nil {
				return 126, fmt.Errorf("cannot change to directory %s: %w", dir, errno)
			}
		}
		if path != "" {
			p := path
			if dir != "" && !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if _, serr := os.Stat(p); serr == nil {
				return 126, fmt.Errorf("%s: %w: bad interpreter: %w", name, ErrNotExecutable, errno)
			}
		}
		return 127, fmt.Errorf("%s: %w", name, ErrNotFound)
	case syscall.EACCES, syscall.EPERM, syscall.ENOEXEC, syscall.EISDIR, syscall.ETXTBSY, syscall.ELOOP:
		return 126, fmt.Errorf("%s: %w: %w", name, ErrNotExecutable, errno)
	default:
		return 126, fmt.Errorf("%s: %w", name, errno)
	}
}

// lookup is a cached PATH lookup: the path found for a name, and the PATH
// it was found in.
type lookup struct{ path, env string }

// lookups caches successful PATH lookups by program name. Failures are not
// cached: a job may create the program a later job runs.
var lookups sync.Map

// lookPath finds name in the PATH of environ, or of the runner's
// environment when environ is nil.
func lookPath(name string, environ []string) (string, error) {
	if strings.Contains(name, "/") {
		// Run as named, relative to the job's directory; the exec itself
		// says whether it exists.
		return name, nil
	}
	env := os.Getenv("PATH")
	if environ != nil {
		env = envValue(environ, "PATH")
	}
	if v, ok := lookups.Load(name); ok {
		if l := v.(lookup); l.env == env {
			return l.path, nil
		}
	}
	path, err := lookPathIn(name, env)
	if err != nil {
		return "", err
	}
	lookups.Store(name, lookup{path: path, env: env})
	return path, nil
}

// lookPathIn is exec.LookPath with path as PATH.
func lookPathIn(name, path string) (string, error) {
	if path == os.Getenv("PATH") {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			if !filepath.IsAbs(p) {
				// As exec.LookPath: a relative PATH entry is not trusted.
				return "", &exec.Error{Name: name, Err: exec.ErrDot}
			}
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// envValue returns the value of key in env, "" if it is not there.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// environ returns base (nil: the runner's environment) with extra's
// entries replacing those of the same key, and PWD set to dir when there
// is one; nil (the runner's environment as it is) when there is nothing
// to change.
func environ(base, extra []string, dir string) []string {
	if dir != "" && !hasKey(extra, "PWD") {
		if abs, err := filepath.Abs(dir); err == nil {
			extra = append(extra[:len(extra):len(extra)], "PWD="+abs)
		}
	}
	if base != nil {
		if len(extra) == 0 {
			return base
		}
	} else {
		if len(extra) == 0 {
			return nil
		}
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !hasKey(extra, k) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return true
		}
	}
	return false
}

// plumbing is a job's standard files: the ones handed to the child, the
// pipes Exec reads, and the goroutines that read them.
type plumbing struct {
	childEnds []*os.File // pipe ends the child gets; closed by us once it has them
	streams   []*stream  // output pipes Exec reads
	feed      *feeder    // the stdin pipe Exec writes, if any
	wg        sync.WaitGroup
	inline    bool       // the output pipes are raw and read by pump, in Exec's goroutine
	np        *netPoller // inline: where pump waits, if not in poll(2)
	buf       *[]byte    // pump's buffer, when inline, while it reads
}

func (p *plumbing) setup(o ExecOptions, null *os.File) ([]*os.File, error) {
	stdin := null
	switch in := o.Stdin.(type) {
	case nil:
	case *os.File:
		stdin = in
	default:
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("stdin pipe: %w", err)
		}
		p.childEnds = append(p.childEnds, pr)
		p.feed = &feeder{w: pw, r: in}
		stdin = pr
	}
	p.inline = o.Inline && p.feed == nil
	if !p.inline && p.feed == nil && (piped(o.Stdout) || piped(o.Stderr)) {
		// A job that only waits holds one parked goroutine (netpoll_linux.go).
		if p.np = newNetPoller(); p.np != nil {
			p.inline = true
		}
	}
	stdout, err := p.output(o.Stdout, null)
	if err != nil {
		return nil, err
	}
	stderr := stdout
	if !SameWriter(o.Stdout, o.Stderr) {
		if stderr, err = p.output(o.Stderr, null); err != nil {
			return nil, err
		}
	}
	return []*os.File{stdin, stdout, stderr}, nil
}

// piped reports whether output to w goes through a pipe that Exec reads.
func piped(w io.Writer) bool {
	switch w.(type) {
	case nil, *os.File:
		return false
	}
	return true
}

// output returns the file the child writes to for w.
func (p *plumbing) output(w io.Writer, null *os.File) (*os.File, error) {
	switch w := w.(type) {
	case nil:
		return null, nil
	case *os.File:
		return w, nil
	}
	if p.inline {
		return p.rawOutput(w)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	p.streams = append(p.streams, &stream{r: pr, w: w})
	p.childEnds = append(p.childEnds, pw)
	return pw, nil
}

func (p *plumbing) closeChildEnds() {
	for _, f := range p.childEnds {
		f.Close()
	}
	p.childEnds = nil
}

func (p *plumbing) startCopying() {
	for _, s := range p.streams {
		if s.raw == nil {
			p.wg.Go(s.copy)
		}
	}
	if p.feed != nil {
		p.wg.Go(p.feed.copy)
	}
}

// finish waits, once the job's group is gone, for the output to be read to
// its end (at most drainDelay for a pipe a detached process holds), and
// returns what went wrong delivering it.
func (p *plumbing) finish() []error {
	deadline := time.Now().Add(drainDelay)
	p.pumpUntil(deadline)
	for _, s := range p.streams {
		if s.r != nil {
			_ = s.r.SetReadDeadline(deadline)
		}
	}
	if p.feed != nil {
		// The child is gone: unblock a write into its stdin.
		_ = p.feed.w.SetWriteDeadline(time.Now())
	}
	p.wg.Wait()
	var errs []error
	held := false
	for _, s := range p.streams {
		if s.err != nil {
			errs = append(errs, fmt.Errorf("writing output: %w", s.err))
		}
		if s.held && !held { // once, whether it holds stdout, stderr or both
			held = true
			errs = append(errs, fmt.Errorf("%w; stopped reading %v after the job ended: %w", job.ErrHeldOutput, drainDelay, exec.ErrWaitDelay))
		}
	}
	if p.feed != nil && p.feed.err != nil {
		errs = append(errs, fmt.Errorf("feeding stdin: %w", p.feed.err))
	}
	return errs
}

func (p *plumbing) closeAll() {
	p.closeChildEnds()
	for _, s := range p.streams {
		if s.r != nil {
			s.r.Close()
		}
		s.closeRaw()
	}
	p.releaseBuf()
	if p.np != nil {
		p.np.close()
		p.np = nil
	}
	if p.feed != nil {
		p.feed.w.Close()
	}
}

// stream copies one output pipe to its writer: from r, in a goroutine of
// its own, or from raw, in inline mode.
type stream struct {
	raw  *rawFD // inline mode: the pipe's read end; nil once closed
	r    *os.File
	w    io.Writer
	err  error // the first write error; later output is read and dropped
	held bool  // reading stopped at the drain deadline with the pipe still open
}

func (s *stream) copy() {
	rc, err := s.r.SyscallConn()
	if err != nil {
		s.copyBuffered()
		return
	}
	// Reads start in a small buffer of the stream's own; a pooled 32 KiB
	// one is taken only while output keeps coming.
	first := make([]byte, 512)
	small := true
	// bp is the pooled buffer, held from the first full small read for as
	// long as output keeps coming (not taken and given back per chunk:
	// a pool drops what it is given back now and then, at every GC, and
	// always a quarter of it under the race detector), and given back
	// once the pipe is empty or at the end.
	var bp *[]byte
	release := func() {
		if bp != nil {
			copybuf.Pool.Put(bp)
			bp = nil
		}
	}
	defer release()
	for {
		// A read starts in the stream's own small buffer, which is also
		// where a job that prints nothing reads its end of file, so a
		// thousand idle jobs do not hold (or, all ending at once,
		// allocate) a thousand buffers. Each chunk is one rc.Read, which
		// checks the read deadline first.
		var (
			buf  []byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			if small {
				buf = first
			} else {
				if bp == nil {
					bp = copybuf.Pool.Get().(*[]byte)
				}
				buf = *bp
			}
			n, rerr = syscall.Read(int(fd), buf)
			for rerr == syscall.EINTR {
				n, rerr = syscall.Read(int(fd), buf)
			}
			if rerr == syscall.EAGAIN {
				release()
				small = true // the pipe is empty: wait with no buffer held
				return false
			}
			return true
		})
		if n > 0 {
			s.deliver(buf[:n])
		}
		if n < len(first) {
			small = true // a short read: the pipe was drained
			release()
		} else {
			small = false // a full read: more is coming
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			release()
			bp := copybuf.Pool.Get().(*[]byte)
			s.held = s.drainBuffered(*bp)
			copybuf.Pool.Put(bp)
			return
		case err != nil, n <= 0: // EOF, or an error that ends the pipe anyway
			return
		}
	}
}

// copyBuffered is copy for a pipe without a raw descriptor: a Read loop
// through a pooled buffer.
func (s *stream) copyBuffered() {
	bp := copybuf.Pool.Get().(*[]byte)
	defer copybuf.Pool.Put(bp)
	buf := *bp
	for {
		n, err := s.r.Read(buf)
		s.deliver(buf[:n])
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.held = s.drainBuffered(buf)
			return
		default: // io.EOF, or a read error that ends the pipe anyway
			return
		}
	}
}

// drainBuffered takes what the pipe holds now, without waiting for more
// (a Read at a passed deadline does not even look), and reports whether
// the pipe is still open.
func (s *stream) drainBuffered(buf []byte) bool {
	if s.r.SetReadDeadline(time.Time{}) != nil {
		return true
	}
	rc, err := s.r.SyscallConn()
	if err != nil {
		return true
	}
	for range 64 { // at most a few pipe buffers: a detached writer may never stop
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf)
			return true
		}); err != nil {
			return true
		}
		switch {
		case n > 0:
			s.deliver(buf[:n])
		case rerr == syscall.EINTR:
		case rerr == nil: // EOF
			return false
		default: // EAGAIN: empty, and held open
			return true
		}
	}
	return true
}

func (s *stream) deliver(p []byte) {
	if len(p) == 0 || s.err != nil {
		return
	}
	s.err = write(s.w, p)
}

// write writes p to w. A short write is io.ErrShortWrite; a panic in w is
// an error that carries it and its stack: Start delivers output on
// goroutines of its own, where a panic would end the process, and Exec
// fails the job as Start does.
func write(w io.Writer, p []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if e, ok := v.(error); ok {
				err = fmt.Errorf("panic: %w\n\n%s", e, debug.Stack())
			} else {
				err = fmt.Errorf("panic: %v\n\n%s", v, debug.Stack())
			}
		}
	}()
	n, err := w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

// feeder copies a reader into a job's stdin pipe.
type feeder struct {
	w   *os.File
	r   io.Reader
	err error
}

func (f *feeder) copy() {
	_, err := io.Copy(f.w, f.r)
	f.w.Close()
	if err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, os.ErrDeadlineExceeded) {
		f.err = err
	}
}

// SameWriter reports whether a and b are the same writer, without
// panicking on uncomparable ones: Exec gives a job one pipe for both when
// they are.
func SameWriter(a, b io.Writer) (same bool) {
	if a == nil || b == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
