package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/futures-cli/futures/pool/pgroup"
)

// Launcher starts worker processes for a [ProcessPool]: anything that gives
// back a pipe to a program speaking the worker protocol on its stdin and
// stdout. [LocalLauncher] starts `futures worker` on this machine; a
// launcher for `ssh HOST futures worker` or `srun … futures worker` is a
// LocalLauncher with another Command, or another implementation of this
// interface, and the pool does not change.
type Launcher interface {
	// Launch starts the worker named name and returns it once it runs; ctx
	// bounds the start only, not the worker's life. The pool then speaks
	// the protocol over the Process's Stdin and Stdout.
	Launch(ctx context.Context, name string) (Process, error)
}

// Process is a worker process a [Launcher] started.
type Process interface {
	// Stdin carries frames to the worker; closing it asks the worker to
	// exit.
	Stdin() io.WriteCloser
	// Stdout carries frames from the worker, and nothing else.
	Stdout() io.Reader
	// Wait waits for the worker to exit and returns why it did, as
	// exec.Cmd.Wait does (nil for a clean exit), with the start of what it
	// wrote to its stderr. It is called once.
	Wait() error
	// Kill stops the worker at once.
	Kill() error
	// KillJob KILLs the process group pgid of a job the worker started,
	// after the worker died without stopping it. Launchers of workers on
	// other machines, whose jobs the worker's death takes down there, may
	// do nothing.
	KillJob(pgid int)
	// String describes the worker for messages: "pid 1234", "pid 1234 on
	// host".
	String() string
}

// LocalLauncher starts worker processes on this machine, each the leader
// of a process group of its own. The zero value starts this program as
// `os.Executable() worker`.
//
// A local worker gets SIGTERM when the process that started it dies
// (Pdeathsig), even by SIGKILL: `futures worker` then KILLs its running
// job's process group and exits. (SIGTERM rather than SIGKILL, so that the
// worker can take its job's children down with it; the worker also exits
// when its stdin closes, which is all a remote worker has.) On macOS, which
// has no Pdeathsig, the worker watches its parent instead
// (WorkerOptions.ParentWatch).
type LocalLauncher struct {
	// Command is the worker's argv; empty means os.Executable() and
	// "worker".
	Command []string
	// Env is the worker's environment; nil means this process's.
	Env []string
	// Dir is the worker's working directory; "" means this process's.
	Dir string
}

// Launch implements Launcher.
func (l *LocalLauncher) Launch(ctx context.Context, name string) (Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	argv := l.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding this program to start a worker: %w", err)
		}
		argv = []string{exe, "worker"}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = l.Env
	cmd.Dir = l.Dir
	cmd.SysProcAttr = pgroup.Attr(syscall.SIGTERM)
	lp := &cmdProcess{cmd: cmd, stderr: new(headBuffer)}
	cmd.Stderr = lp.stderr
	// The worker's stderr is ours alone (its jobs get pipes of their own):
	// this only bounds Wait if a job detaches and keeps it anyway.
	cmd.WaitDelay = time.Second
	var err error
	if lp.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if lp.stdout, err = cmd.StdoutPipe(); err != nil {
		_ = lp.stdin.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	return lp, nil
}

// cmdProcess is a worker process started as an exec.Cmd: by a
// LocalLauncher, or by a RemoteLauncher (remote: the command reaches
// another machine, where the worker's jobs run).
type cmdProcess struct {
	cmd    *exec.Cmd
	label  string // what started it, for String: "" (local), "ssh h1"
	remote bool
	stdin  io.WriteCloser
	stdout io.Reader
	stderr *headBuffer // the start of what the command wrote there
}

func (p *cmdProcess) Stdin() io.WriteCloser { return p.stdin }
func (p *cmdProcess) Stdout() io.Reader     { return p.stdout }

func (p *cmdProcess) String() string {
	s := "pid " + strconv.Itoa(p.cmd.Process.Pid)
	if p.label != "" {
		s = p.label + " " + s
	}
	return s
}

func (p *cmdProcess) Wait() error {
	err := p.cmd.Wait()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" && err != nil {
		return fmt.Errorf("%w; its stderr: %s", err, msg)
	}
	return err
}

// Kill KILLs a local worker, or the whole session of the command that
// reaches a remote one (ssh, and whatever it started here).
func (p *cmdProcess) Kill() error {
	if p.remote {
		return pgroup.Kill(p.cmd.Process.Pid)
	}
	return p.cmd.Process.Kill()
}

// KillJob KILLs the process group of a local worker's job; for a remote
// worker it does nothing: the job runs on another machine, where the
// worker's death takes it down.
func (p *cmdProcess) KillJob(pgid int) {
	if !p.remote {
		_ = pgroup.Kill(pgid)
	}
}
