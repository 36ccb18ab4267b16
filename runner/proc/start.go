package proc

import (
	"os"
	"runtime"
	"syscall"
)

// startProcess starts the program at path as os.StartProcess does (attr.Env
// nil is the runner's environment), without an os.Process: it returns the
// child's pid and, on Linux, a pidfd of it, made by the clone that made the
// child (CLONE_PIDFD), or -1 where there is none (forkExecPidfd). The
// caller reaps the child (waitExit, wait4) and closes the pidfd.
//
// Why not os.StartProcess: since Go 1.23 an os.Process holds a pidfd of its
// own, so a job had two (os's, and the one Exec waits on); and every
// descriptor the runner holds is copied, then closed, by each exec of a job
// (all are close-on-exec), so at -j1000 each one a running job holds costs
// a thousand closes per exec.
func startProcess(path string, argv []string, attr *os.ProcAttr) (pid, pidfd int, err error) {
	env := attr.Env
	if env == nil {
		env = os.Environ()
	}
	fds := make([]uintptr, len(attr.Files))
	for i, f := range attr.Files {
		fds[i] = f.Fd()
	}
	var sys syscall.SysProcAttr
	if attr.Sys != nil {
		sys = *attr.Sys
	}
	pid, pidfd, err = forkExecPidfd(path, argv, &syscall.ProcAttr{Dir: attr.Dir, Env: env, Files: fds, Sys: &sys})
	runtime.KeepAlive(attr.Files) // their finalizers must not close them before the fork
	if err != nil {
		return 0, -1, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, pidfd, nil
}

// forkExec is syscall.ForkExec; a variable for a test of a clone that
// refuses what the kernel would.
var forkExec = syscall.ForkExec
