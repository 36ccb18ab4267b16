package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/pgroup"
	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/proc"
	"github.com/futures-cli/futures/runner/service/store"
)

// LogFile is the service's log, in its state directory; PIDFile, in its
// runtime directory, holds the running service's pid and its flock for as
// long as the service lives (the kernel drops the lock when it dies).
const (
	LogFile = "service.log"
	PIDFile = "service.pid"
)

// BrokenReason is the error a future gets when the service that held it
// died (store.BreakUnfinished).
const BrokenReason = "broken: the service died (killed or crashed) before the future finished"

// ShutdownRequest is the body of POST /v1/shutdown, Python's
// Executor.shutdown(wait, cancel_futures).
type ShutdownRequest struct {
	Wait          bool `json:"wait"`
	CancelFutures bool `json:"cancel_futures"`
}

// ShutdownReply is what POST /v1/shutdown answers, before the service
// stops serving.
type ShutdownReply struct {
	PID int `json:"pid"`
}

// RunOptions tune Run.
type RunOptions struct {
	// Version is what GET /v1/service reports.
	Version string
	// Workers is how many jobs run at once; 0 is 1.
	Workers int
	// Grace is the time between TERM and KILL when a job is stopped; 0
	// is 5 s.
	Grace time.Duration
	// Process runs the jobs in worker processes (--executor process) with
	// these options; Remote, when enabled, puts the workers on other
	// hosts (-S, --launcher; then Workers is the sum of their workers).
	// Nil Process: each job is a process of the service's own.
	Process *pool.ProcessOptions
	Remote  runner.RemoteOptions
	// Settings is how the service was asked to run (its pool flags), for
	// GET /v1/service: `futures start` refuses other settings for a
	// service that runs.
	Settings string
	// Crash is a test hook, FUTURES_TEST_CRASH (docs/service.md): "" is
	// none; CrashAfterCommit makes the service SIGKILL itself in a submit
	// between the commit of its futures and the reply.
	Crash string
}

// newPool makes the process pool of opts, with its hosts prepared (the
// futures binary found or sent there), or nil for the thread executor.
func newPool(ctx context.Context, opts *RunOptions, logw io.Writer) (pool.Executor[job.Outcome], error) {
	if opts.Process == nil {
		return nil, nil
	}
	po := *opts.Process
	if opts.Remote.Enabled() {
		hosts, err := opts.Remote.Hosts(ctx, po.WorkerLoss, logw)
		if err != nil {
			return nil, err
		}
		po.Hosts, opts.Workers = hosts, 0
		for _, h := range hosts {
			opts.Workers += h.Workers
		}
	}
	po.MaxWorkers = opts.Workers
	return pool.NewProcessPool[job.Outcome](po), nil
}

// LogPath is the path of the service's log file.
func (p Paths) LogPath() string { return filepath.Join(p.StateDir, LogFile) }

// PIDPath is the path of the service's pid file.
func (p Paths) PIDPath() string { return filepath.Join(p.RuntimeDir, PIDFile) }

// lockPID takes the flock on p's pid file without waiting and writes the
// pid in it. The lock is held while the returned file is open: by the
// running service only. A lock held by another process is ErrRunning.
func lockPID(p Paths) (*os.File, error) {
	f, err := os.OpenFile(p.PIDPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("service %s: %w (pid file %s is locked)", p.Name, ErrRunning, p.PIDPath())
		}
		return nil, fmt.Errorf("service %s: pid file %s: %w", p.Name, p.PIDPath(), err)
	}
	// The pid is for people and tests; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// ServicePID returns the pid written in p's pid file: the running
// service's, or the last one's; 0 when there is none (or it is being
// written).
func ServicePID(p Paths) int {
	b, err := os.ReadFile(p.PIDPath())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// Alive reports whether a service process holds p's pid file lock, that
// is, still lives (it may have stopped serving already).
func Alive(p Paths) bool {
	f, err := os.OpenFile(p.PIDPath(), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(flock(f, unix.LOCK_SH|unix.LOCK_NB), syscall.EWOULDBLOCK)
}

// Run is the service, `futures service`: it takes the pid file's lock (a
// service already running makes it return an error wrapping ErrRunning),
// opens the store in the state directory, breaks the futures a dead
// service left RUNNING or PENDING (store.BreakUnfinished), removes a
// stale socket, listens and serves until ctx is done or a client POSTs
// /v1/shutdown. It logs to service.log in the state directory; on its way
// out it stops serving (which removes the socket) and closes the store.
func Run(ctx context.Context, p Paths, opts RunOptions) (err error) {
	if opts.Crash != "" && opts.Crash != CrashAfterCommit {
		return fmt.Errorf("service %s: %w: %q", p.Name, ErrBadCrashPoint, opts.Crash)
	}
	if err := p.Ensure(); err != nil {
		return err
	}
	lf, err := os.OpenFile(p.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("service %s: log: %w", p.Name, err)
	}
	defer lf.Close()
	logger := log.New(lf, fmt.Sprintf("service %s[%d]: ", p.Name, os.Getpid()), log.LstdFlags|log.LUTC|log.Lmicroseconds)
	defer func() {
		if err != nil {
			logger.Printf("exits: %v", err)
		}
	}()

	pid, err := lockPID(p)
	if err != nil {
		return err
	}
	defer pid.Close()

	st, err := store.Open(p.StateDir)
	if err != nil {
		return fmt.Errorf("service %s: %w", p.Name, err)
	}
	defer st.Close()
	broken, err := st.BreakUnfinished(ctx, BrokenReason)
	if err != nil {
		return fmt.Errorf("service %s: %w", p.Name, err)
	}
	if len(broken) > 0 {
		logger.Printf("a service before this one died: %d unfinished futures marked broken: %v", len(broken), broken)
	}

	// The pid lock is ours, so a socket that is there is a dead service's.
	if state, err := CheckSocket(ctx, p); err != nil {
		return err
	} else if state == Live {
		return fmt.Errorf("service %s: %w: a process without the pid lock answers on %s", p.Name, ErrRunning, p.Socket)
	}
	ln, err := Listen(p, logger)
	if err != nil {
		return err
	}
	// The guard kills what our jobs leave if the service is killed.
	defer proc.StartGuard()()
	pl, err := newPool(ctx, &opts, lf)
	if err != nil {
		return fmt.Errorf("service %s: %w", p.Name, err)
	}
	if pl != nil {
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := pl.Shutdown(sctx, pool.ShutdownOptions{Wait: true}); err != nil {
				logger.Printf("stopping the workers: %v", err)
			}
		}()
	}
	ex := NewExecutor(st, ExecOptions{
		Workers: opts.Workers, Name: p.Name, Grace: opts.Grace, Log: logger, CallbackOutput: lf,
		Pool: pl, Remote: opts.Remote.Enabled(),
	})
	if opts.Process != nil {
		ex.opts.Shell = opts.Process.Shell
	}
	srv := NewServer(p, Options{Version: opts.Version, Workers: ex.Workers(), Settings: opts.Settings, Log: logger})
	handleFutures(srv, ex, opts.Crash)
	handleAttach(srv, ex)
	stop := make(chan ShutdownRequest, 1)
	var once sync.Once
	srv.Handle(http.MethodPost, "/v1/shutdown", func(w http.ResponseWriter, r *http.Request) {
		var req ShutdownRequest
		if err := DecodeRequest(w, r, &req, 4<<10); err != nil {
			WriteError(w, err)
			return
		}
		once.Do(func() {
			// Before the answer: a client that returns at once
			// (--wait=false) finds the service taking no new futures,
			// its pending ones cancelled with --cancel-futures (Python's
			// shutdown cancels them before it returns), and the log
			// saying so.
			logger.Printf("stopping: shutdown requested (wait=%v, cancel_futures=%v)", req.Wait, req.CancelFutures)
			ex.Shutdown(context.Background(), req.CancelFutures, false)
			stop <- req
		})
		WriteJSON(w, http.StatusOK, ShutdownReply{PID: os.Getpid()})
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("serving on %s (store %s)", p.Socket, st.Path())
	if opts.Crash != "" {
		logger.Printf("test hook FUTURES_TEST_CRASH=%s: the service will SIGKILL itself there", opts.Crash)
	}

	select {
	case <-ctx.Done():
		// SIGTERM or SIGINT: cancel what is pending, stop what runs.
		logger.Printf("stopping: %v: cancelling pending futures, terminating running ones", context.Cause(ctx))
		ex.Shutdown(context.Background(), true, true)
	case <-stop: // the handler has shut the executor down
	case err := <-served:
		return fmt.Errorf("service %s: serving: %w", p.Name, err)
	}
	// Python's shutdown: no new futures, the others run to their end,
	// and the service keeps answering waits meanwhile.
	if pending, running := ex.Counts(); pending+running > 0 {
		logger.Printf("waiting for %d running and %d pending futures", running, pending)
	}
	drained := make(chan struct{})
	go func() { ex.Drain(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		ex.Shutdown(context.Background(), true, true)
		<-drained
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("service %s: serving: %w", p.Name, err)
	}
	logger.Printf("stopped")
	return nil
}

// StartOptions tune Start.
type StartOptions struct {
	// Command is the service's argv, `futures service --service NAME`;
	// Command[0] is the argv[0] it runs with.
	Command []string
	// Path is the executable to run; "" is os.Executable().
	Path string
	// Patience bounds the wait for a started service to answer; 0 is 10 s.
	Patience time.Duration
	// Notify receives what the user is told (a stale socket removed).
	Notify func(string)
}

// Start finds the service at p running or starts it, detached, and waits
// until it answers GET /v1/service; started says which. It holds the
// start lock meanwhile, so that of two racing Starts one starts the
// service and the other finds it running.
func Start(ctx context.Context, p Paths, opts StartOptions) (info Info, started bool, err error) {
	if opts.Patience <= 0 {
		opts.Patience = 10 * time.Second
	}
	release, err := Acquire(p)
	if err != nil {
		return Info{}, false, err
	}
	defer release()
	c := Dial(p)
	defer c.Close()
	state, err := CheckSocket(ctx, p)
	if err != nil {
		return Info{}, false, err
	}
	switch state {
	case Live:
		info, err := c.Service(ctx)
		if err == nil || !diedMidCall(ctx, p, err) {
			return info, false, err
		}
		// It died (killed) between the probe and the call: start one.
		if opts.Notify != nil {
			opts.Notify(fmt.Sprintf("service %s died as this command reached it (%v): starting a new one", p.Name, err))
		}
	case Stale:
		if opts.Notify != nil {
			opts.Notify(StaleMessage(p))
		}
	}
	// A service process without a socket is starting (a `futures service`
	// run by hand) or shutting down (closing its store): wait until it
	// answers, or exits and lets us start one.
	if Alive(p) {
		info, err := awaitService(ctx, p, c, 0, opts.Patience)
		if err == nil {
			return info, false, nil
		}
		if !errors.Is(err, errExited) {
			return Info{}, false, err
		}
	}
	path := opts.Path
	if path == "" {
		if path, err = os.Executable(); err != nil {
			return Info{}, false, fmt.Errorf("service %s: finding the futures binary: %w", p.Name, err)
		}
	}
	logf, err := os.OpenFile(p.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return Info{}, false, fmt.Errorf("service %s: log: %w", p.Name, err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return Info{}, false, err
	}
	defer devnull.Close()
	cmd := &exec.Cmd{
		Path:   path,
		Args:   opts.Command,
		Stdin:  devnull,
		Stdout: logf,
		Stderr: logf,
		// Its own session: no terminal, no signal of ours (Ctrl-C) reaches
		// it, and no death signal when we exit.
		SysProcAttr: pgroup.SessionAttr(0),
	}
	if err := cmd.Start(); err != nil {
		return Info{}, false, fmt.Errorf("service %s: starting %s: %w", p.Name, path, err)
	}
	// The service is a daemon by design: it outlives this command, and is
	// reparented to init when we exit, which reaps it. So it is the one
	// child that futures does not wait for; only an early exit, before it
	// answered, is reaped here (WNOHANG), to report it.
	defer cmd.Process.Release()
	info, err = awaitService(ctx, p, c, cmd.Process.Pid, opts.Patience)
	if errors.Is(err, errExited) && Alive(p) {
		// Ours lost the pid lock to a service started by hand at the
		// same moment (`futures service`): that one is the service.
		info, err = awaitService(ctx, p, c, 0, opts.Patience)
		return info, false, err
	}
	return info, err == nil, err
}

// diedMidCall reports whether err, a call's error that is no answer of
// the service (a broken connection, the socket gone), came from a service
// that died: no service process is left within a few seconds (a killed
// process closes its socket a moment before its pid lock goes).
func diedMidCall(ctx context.Context, p Paths, err error) bool {
	var answered *Error
	if errors.As(err, &answered) || ctx.Err() != nil {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return awaitExit(wctx, p) == nil
}

// errExited is awaitService's error when the service process it waited
// for, not a child of ours, exited without answering.
var errExited = errors.New("exited")

// awaitService polls GET /v1/service with a bounded backoff until it
// answers, the child pid exits (pid 0: until no process holds the pid
// lock, errExited), or patience runs out.
func awaitService(ctx context.Context, p Paths, c *Client, pid int, patience time.Duration) (Info, error) {
	deadline := time.Now().Add(patience)
	delay := time.Millisecond
	for {
		info, err := c.Service(ctx)
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, ErrNotRunning) {
			return Info{}, err
		}
		if pid == 0 && !Alive(p) {
			return Info{}, errExited
		}
		var ws syscall.WaitStatus
		if pid != 0 {
			if wpid, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); wpid == pid {
				return Info{}, fmt.Errorf("service %s %w (%s) before it answered; see %s%s", p.Name, errExited, waitString(ws), p.LogPath(), logTail(p.LogPath()))
			}
		}
		if time.Now().After(deadline) {
			return Info{}, fmt.Errorf("service %s (pid %d) did not answer on %s within %v; see %s", p.Name, pid, p.Socket, patience, p.LogPath())
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return Info{}, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

func waitString(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// logTail returns the log's last line, as ": LINE", or "".
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "" {
		return ": " + last
	}
	return ""
}

// Shutdown asks the service at p to shut down (POST /v1/shutdown); with
// req.Wait it then waits until the service process has exited (its pid
// file lock is free). A service that is not running is ErrNotRunning.
func Shutdown(ctx context.Context, p Paths, req ShutdownRequest) error {
	c := Dial(p)
	defer c.Close()
	if err := c.Do(ctx, http.MethodPost, "/v1/shutdown", req, nil); err != nil {
		return err
	}
	if !req.Wait {
		return nil
	}
	return awaitExit(ctx, p)
}

// awaitExit waits, polling with a bounded backoff, until no service
// process holds p's pid lock, or ctx is done.
func awaitExit(ctx context.Context, p Paths) error {
	delay := time.Millisecond
	for Alive(p) {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
	return nil
}

// BreakIfDead is crash recovery for a command that reads the store of the
// service at p without the service (futures status): when no service
// process runs, it breaks the futures a dead one left RUNNING or PENDING
// in st (store.BreakUnfinished) and returns their ids; when one runs, it
// does nothing. It holds the start lock, so that `futures start` cannot
// start a service meanwhile, and the pid lock while it writes.
func BreakIfDead(ctx context.Context, p Paths, st *store.Store) ([]int64, error) {
	release, err := Acquire(p)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := os.OpenFile(p.PIDPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, nil // a service runs: its futures are its own
	} else if err != nil {
		return nil, fmt.Errorf("service %s: pid file %s: %w", p.Name, p.PIDPath(), err)
	}
	return st.BreakUnfinished(ctx, BrokenReason)
}
