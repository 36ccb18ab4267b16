//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// running is a started job.
type running struct{ pid, pidfd int }

// run runs the jobs, at most limit at once.
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
