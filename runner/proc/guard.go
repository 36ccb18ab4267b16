package proc

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/futures-cli/futures/pool/pgroup"
	"golang.org/x/sys/unix"
)

// The guard kills what a run's jobs leave behind when the runner cannot:
// when it is killed with SIGKILL (Pdeathsig only reaches a job's main
// process, not the processes it started); and the runner itself does the
// same sweep when it ends, for a process that left its job's process group
// without leaving the session (a background job of `bash -c 'set -m; …'`).
//
// Every process of a run carries FUTURES_RUN=<id> in its environment (the
// runner sets it in its own, and jobs and workers inherit it). The guard
// is a shell waiting for a line on a pipe from the runner, in a process
// group of its own, ignoring the terminal's signals. At its normal end the
// runner sweeps, then KILLs the guard's process group. If the pipe
// closes without it (the runner was killed), the shell execs `futures
// guard ID` (GuardCommand), which sweeps. A sweep KILLs every process of
// the runner's session whose environment holds the run's id. A process
// started with setsid, which is how a job detaches a daemon on purpose, is
// in another session, and left alone; so is one started with a fresh
// environment (env -i). The sweep KILLs each marked process by its pid,
// not by its process group (pool/pgroup): the group of a process that left
// its job's group may hold processes the sweep leaves alone.
//
// The sweep reads /proc (each process's environ): Linux only. On macOS and
// FreeBSD it finds nothing, and kills nothing (README, Platforms).

// runEnv is the environment variable that marks the processes of a run.
const runEnv = "FUTURES_RUN"

// GuardCommand is the command of this program's executable that the guard
// runs, with the run's id, when the runner was killed: `futures guard ID`,
// which calls Sweep(ID).
const GuardCommand = "guard"

// guardScript is the guard, run as sh -c guardScript sh EXE ID.
const guardScript = `trap '' INT TERM HUP QUIT PIPE; read -r _ || exec "$1" ` + GuardCommand + ` "$2"`

// StartGuard starts the guard and marks this process's future children
// with a new run id. The returned function, called once the run is over,
// sweeps and lets the guard go. Without a shell or without os.Executable,
// the run goes on without the guard, and still sweeps at its end.
func StartGuard() (stop func()) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	guard, pw := spawnGuard(id) // before Setenv: the guard is not marked
	if err := os.Setenv(runEnv, id); err != nil {
		return func() {}
	}
	return func() {
		Sweep(id)
		if guard > 0 {
			// KILLed, not told: telling it means waiting for the shell to
			// have started and read the line, which costs a one-job run
			// milliseconds. The kill comes before the pipe closes, which
			// would have it sweep. Its pid, not yet reaped, is its group's.
			_ = pgroup.Kill(guard)
			pw.Close()
			wait4(guard)
		}
	}
}

// guardShell is the shell that runs the guard; a variable for a test.
var guardShell = "/bin/sh"

// spawnGuard starts the guard shell and returns its pid and the write end
// of its pipe, or 0 and nil.
//
// It forks with syscall.ForkExec, not os.StartProcess: the first
// os.StartProcess of a process checks that pidfds work by starting a
// child that exits at once (os's checkPidfd), and keeps a pidfd in the
// os.Process; the guard needs neither, and a one-job run paid for both.
// The guard is reaped with wait4.
func spawnGuard(id string) (int, *os.File) {
	exe, err := os.Executable()
	if err != nil {
		return 0, nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, nil
	}
	defer null.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, nil
	}
	defer pr.Close()
	// Not marked, not even by an outer run (futures inside a job of
	// futures): the outer run's sweep must leave this guard to do its own.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, runEnv+"=") {
			env = append(env, kv)
		}
	}
	pid, err := syscall.ForkExec(guardShell, []string{"sh", "-c", guardScript, "sh", exe, id}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{pr.Fd(), null.Fd(), null.Fd()},
		Sys:   pgroup.Attr(0),
	})
	runtime.KeepAlive(pr) // its finalizer must not close it before the fork
	runtime.KeepAlive(null)
	if err != nil {
		pw.Close()
		return 0, nil
	}
	return pid, pw
}

// Sweep KILLs the processes of this session whose environment holds
// FUTURES_RUN=id, pass after pass until a pass finds none (a process may
// fork while a pass runs), and returns how many processes it killed (one
// still dying when the next pass comes is signalled again, and counted once).
func Sweep(id string) int {
	want := []byte("\x00" + runEnv + "=" + id + "\x00")
	self := os.Getpid()
	sid, err := unix.Getsid(0)
	if err != nil {
		return 0
	}
	killed := make(map[int]bool)
	// On the heap, grown as environments need: a constant size would put
	// it in the frame, and a 64 KiB frame grew the calling goroutine's
	// stack to 128 KiB, copied and faulted in at the end of every run.
	env := make([]byte, 0, envBufSize)
	for pass := 0; pass < 100; pass++ {
		n := 0
		d, err := os.Open("/proc")
		if err != nil {
			return len(killed)
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil || pid == self {
				continue
			}
			if s, err := unix.Getsid(pid); err != nil || s != sid {
				continue
			}
			env = append(env[:0], 0)
			if env, err = appendFile(env, "/proc/"+name+"/environ"); err != nil {
				continue // gone, or not ours
			}
			if bytes.Contains(env, want) && syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
				killed[pid] = true
			}
		}
		if n == 0 {
			break
		}
	}
	return len(killed)
}

// envBufSize is Sweep's first buffer for a process's environment; a
// variable, so that the buffer is not allocated in Sweep's frame.
var envBufSize = 8 << 10

// appendFile appends the content of the file name to b.
func appendFile(b []byte, name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return b, err
	}
	defer f.Close()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
