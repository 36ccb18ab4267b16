package pool

import (
	"context"
	"errors"
)

// Host is one machine, or one allocation, that runs some of a
// [ProcessPool]'s workers: its workers are started by Launcher. A pool with
// hosts runs Workers workers on each, spread over the hosts in turn
// (worker_0 on the first host, worker_1 on the second, …) so that a short
// run still reaches every host.
type Host struct {
	// Name labels the host in results and messages (the joblog's Host
	// column, the JSON record's host): a -S login as the user wrote it. ""
	// means each worker's own hostname, from its Hello (srun, where Slurm
	// picks the node).
	Name string
	// Launcher starts this host's workers.
	Launcher Launcher
	// Workers is how many workers run on this host; it must be positive.
	Workers int
}

// WorkerLoss is what a [ProcessPool] does when a worker process dies
// without being asked to, or cannot be started.
type WorkerLoss int

const (
	// LossBreak breaks the pool, as Python's ProcessPoolExecutor does: the
	// lost worker's task and every pending future fail with
	// ErrBrokenProcessPool.
	LossBreak WorkerLoss = iota
	// LossRequeue puts the lost worker's task back at the head of the
	// queue, once, and starts a fresh worker in its place; a host whose
	// workers are lost or fail to start more than MaxRestarts times is
	// dropped. The pool breaks only when no host is left.
	LossRequeue
)

// ErrWorkerLost matches the error RunJob returns, under LossRequeue, when
// the worker died while the job ran: the pool will run the task again (once)
// on another worker. A task that sees it should return it (wrapped) as is.
var ErrWorkerLost = errors.New("pool: worker lost")

// WorkerHost returns the host of the worker whose task ctx was given to: its
// Host.Name, or the hostname the worker reported when that is "". It is ""
// outside a ProcessPool task.
func WorkerHost(ctx context.Context) string {
	pr, _ := ctx.Value(procKey{}).(*proc)
	if pr == nil {
		return ""
	}
	if pr.host != "" {
		return pr.host
	}
	return pr.hello.Hostname
}
