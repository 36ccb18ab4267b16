// Package pgroup handles process groups: a job, a worker or a remote
// command starts as the leader of a group (or session) of its own, and is
// stopped by signalling the whole group, TERM first and KILL after a grace.
package pgroup

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"
)

// Attr returns the attributes that start a process as the leader of a new
// process group (Setpgid), sent deathsig when the process that started it
// dies (Pdeathsig; 0 for none) where the system has that
// (DeathSignalDelivered); elsewhere the caller's child must notice its
// parent's death itself (a worker's stdin closing, its parent watchdog).
func Attr(deathsig syscall.Signal) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(a, deathsig)
	return a
}

// SessionAttr returns the attributes that start a process as the leader of
// a new session, and so of a new process group with no controlling
// terminal (Setsid), sent deathsig when the process that started it dies,
// as Attr does.
func SessionAttr(deathsig syscall.Signal) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true}
	setDeathSignal(a, deathsig)
	return a
}

// Signal sends sig to every process of the group pgid. A group that no
// longer exists (ESRCH) is not an error. A pgid below 2 names no group of
// ours (0 is the caller's group, 1 init's) and is refused.
func Signal(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return syscall.EINVAL
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// Kill KILLs every process of the group pgid, as Signal does.
func Kill(pgid int) error { return Signal(pgid, syscall.SIGKILL) }

// Group is a running process group whose leader the caller started and
// waits for. Once the context given to Watch ends, Group stops the group:
// TERM, then KILL after a grace. Signals go out only until Reap: while the
// leader is not yet reaped (a zombie at worst), its pid, and so the
// group's id, cannot have been reused.
type Group struct {
	pgid    int
	exited  chan struct{} // closed by Reap
	stopped chan struct{} // closed when terminate returns; nil without a ctx to watch
	stop    func() bool   // context.AfterFunc's stop

	mu       sync.Mutex // guards done and canceled
	done     bool       // Reap has run: the group may be gone and its id reused
	canceled bool       // terminate signalled the group
}

// Watch watches ctx for the group pgid, whose leader has just started:
// when ctx ends, it sends TERM to the group, then KILL after grace, or at
// once when kill is closed (kill may be nil), unless Reap comes first. A
// grace of 0 or less KILLs at once.
func Watch(ctx context.Context, pgid int, grace time.Duration, kill <-chan struct{}) *Group {
	g := &Group{pgid: pgid, exited: make(chan struct{}), stop: func() bool { return true }}
	if ctx.Done() != nil {
		g.stopped = make(chan struct{})
		g.stop = context.AfterFunc(ctx, func() { g.terminate(grace, kill) })
	}
	return g
}

// Reap is called once the group's leader has exited, before it is reaped
// (waited for): it KILLs what is left of the group (processes the leader
// started and forgot), ends the watch of ctx and waits for it, and reports
// whether the group was signalled because ctx ended.
func (g *Group) Reap() (canceled bool) {
	g.mu.Lock()
	g.done = true
	_ = Kill(g.pgid)
	g.mu.Unlock()
	close(g.exited)
	if !g.stop() {
		<-g.stopped
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.canceled
}

// signal sends sig to the whole group, unless Reap has run.
func (g *Group) signal(sig syscall.Signal) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return false
	}
	_ = Signal(g.pgid, sig)
	g.canceled = true
	return true
}

// terminate runs once ctx has ended: TERM, then KILL after grace or when
// kill is closed, whichever comes first, unless the leader exits before.
func (g *Group) terminate(grace time.Duration, kill <-chan struct{}) {
	defer close(g.stopped)
	sig := syscall.SIGTERM
	select {
	case <-kill:
		sig = syscall.SIGKILL
	default:
		if grace <= 0 {
			sig = syscall.SIGKILL
		}
	}
	if !g.signal(sig) || sig == syscall.SIGKILL {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
	case <-kill:
	case <-g.exited:
		return
	}
	g.signal(syscall.SIGKILL)
}
