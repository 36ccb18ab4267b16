package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/futures-cli/futures/pool/pgroup"
)

// A local worker learns that its runner died in two ways: Linux (and
// FreeBSD) send it SIGTERM (Pdeathsig, pool/pgroup), and its stdin, a pipe
// from the runner, closes. Where there is no Pdeathsig (macOS, or Linux
// with FUTURES_FORCE_PORTABLE=1), a watchdog stands in for it: the worker
// checks its parent's pid every parentWatchEvery and stops once that
// changes, which is what happens when the parent dies and the worker is
// handed to init or a subreaper. It covers a stdin that stays open (held by
// another process) and a worker started under a wrapper that died.

// ErrOrphaned is the error ServeWorker returns (wrapped) when the worker's
// parent died while the worker served: see [WorkerOptions.ParentWatch].
var ErrOrphaned = errors.New("the worker's parent process is gone")

// parentWatchEvery is how often a worker without a parent-death signal
// checks its parent, by default.
const parentWatchEvery = 100 * time.Millisecond

// parentWatchPeriod is how often ServeWorker checks its parent with
// WorkerOptions.ParentWatch set to d: 0 means every parentWatchEvery where
// the system sends no parent-death signal and never where it does.
func parentWatchPeriod(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d > 0:
		return d
	case pgroup.DeathSignalDelivered():
		return 0
	}
	return parentWatchEvery
}

// watchParent cancels ctx with ErrOrphaned once this process's parent is no
// longer ppid, checking every period, until quit is closed.
func watchParent(ppid int, period time.Duration, quit <-chan struct{}, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-quit:
			return
		case <-tick.C:
		}
		if os.Getppid() != ppid {
			cancel(fmt.Errorf("%w (it was pid %d)", ErrOrphaned, ppid))
			return
		}
	}
}
