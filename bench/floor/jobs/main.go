// Command jobs is the memory floor of bench row 15 (3,000 `sleep 1` at
// -j1000): it runs one `sleep ARG` per line of its standard input, at most
// 1,000 at once, as futures' thread executor does, but with no goroutine
// per running job: one loop waits on an epoll set of the jobs' pidfds, and
// a running job is a small struct. It links futures' package cmd (and
// runs its package initialisers) so that its binary, and the pages of it
// that a start touches, are those of futures. Linux only.
//
// What it leaves out is what futures does per job (output pipes, spools,
// futures, records, cancellation, retries): the difference between its
// peak RSS and futures' is what those cost, and how far a design without
// a goroutine per waiting job could go (docs/performance.md, "Memory").
package main

import (
	"bufio"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	_ "github.com/futures-cli/futures/cmd" // futures' binary, and its initialisers
)

// running is a started job.
type running struct{ pid, pidfd int }

func main() {
	if err := run(1000); err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(1)
	}
}

func run(limit int) error {
	var args []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		args = append(args, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(ep)
	jobs := make(map[int32]running, limit)
	env := os.Environ()
	start := func(arg string) error {
		pidfd := -1
		pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", arg}, &syscall.ProcAttr{
			Env:   env,
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
		})
		if err != nil {
			return err
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(pidfd)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, pidfd, &ev); err != nil {
			return err
		}
		jobs[int32(pidfd)] = running{pid, pidfd}
		return nil
	}
	events := make([]unix.EpollEvent, 128)
	next, failed := 0, 0
	for next < len(args) || len(jobs) > 0 {
		for ; next < len(args) && len(jobs) < limit; next++ {
			if err := start(args[next]); err != nil {
				return err
			}
		}
		n, err := unix.EpollWait(ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range events[:n] {
			j := jobs[e.Fd]
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(j.pid, &ws, 0, nil); err != nil {
				return err
			}
			if ws.ExitStatus() != 0 {
				failed++
			}
			unix.Close(j.pidfd)
			delete(jobs, e.Fd)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d jobs failed", failed)
	}
	return nil
}
