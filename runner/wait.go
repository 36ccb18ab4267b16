package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/input"
)

// ErrNotDone is the cause given to the jobs that `wait --then cancel`
// cancels or terminates because they were not done when Wait returned.
var ErrNotDone = errors.New("not done when wait returned")

// WaitOptions say when RunWait returns and what happens to the rest.
type WaitOptions struct {
	ReturnWhen future.ReturnWhen
	// Finish lets the not-done jobs finish before returning (--then
	// finish); otherwise they are cancelled and terminated (--then cancel).
	Finish bool
}

// WaitSets are the done and not_done sets at the moment the wait returned.
type WaitSets struct {
	Done    []*Result  `json:"done"`
	NotDone []*NotDone `json:"not_done"`
}

// NotDone is a job of the not_done set as it was when the wait returned:
// PENDING (no worker had taken it: no worker, no start) or RUNNING. It
// has not exited, so its exit code is null; it has no signal, error,
// durations or output yet.
type NotDone struct {
	Seq     int      `json:"seq"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Worker  string   `json:"worker,omitempty"`
	// State is future.Pending or future.Running ("PENDING", "RUNNING").
	State future.State `json:"state"`
	// ExitCode is always nil: "exit_code":null.
	ExitCode *int       `json:"exit_code"`
	Start    *time.Time `json:"start,omitempty"`
}

// began is when, and on which worker, a job of wait started (nil before).
type began struct {
	start  time.Time
	worker string
}

// waitTask is the task of job, noting in b when a worker takes it.
func (r *run) waitTask(job *input.Job, b *atomic.Pointer[began]) pool.Task[*jobState] {
	task := r.task(job)
	return func(ctx context.Context) (*jobState, error) {
		b.Store(&began{start: time.Now(), worker: pool.WorkerName(ctx)})
		return task(ctx)
	}
}

// notDoneRecord is the not_done record of p, which b says when it began.
func notDoneRecord(p pending, b *began) *NotDone {
	c, _ := p.job.Command(0)
	nd := &NotDone{Seq: p.job.Seq, Args: p.job.Args, Command: c.Line, State: future.Pending}
	if nd.Args == nil {
		nd.Args = []string{}
	}
	if b != nil {
		nd.State, nd.Worker, nd.Start = future.Running, b.worker, &b.start
	} else if p.f.State() != future.Pending {
		nd.State = future.Running // taken, not yet noted
	}
	return nd
}

// RunWait submits every job of src, waits on all their futures as
// future.Wait does with wo.ReturnWhen (or until the overall timeout or a
// signal), then cancels or finishes the rest. Jobs' output is written as
// in Run, in completion order, once the wait has returned. The sets are
// returned for rendering; with opt.JSON no per-job line is written.
func RunWait(ctx context.Context, opt Options, wo WaitOptions, src input.Source) (*WaitSets, *Summary) {
	opt.KeepOrder = false
	r, err := newRun(ctx, opt)
	if err != nil {
		return nil, setupSummary(ctx, err)
	}
	defer r.cancel(nil)
	r.collect = true

	var all []pending
	var starts []*atomic.Pointer[began]
	for r.ctx.Err() == nil {
		job, ok := r.nextJob(src)
		if !ok {
			break
		}
		b := new(atomic.Pointer[began])
		f, err := r.pool.Submit(r.ctx, r.waitTask(job, b))
		if err != nil {
			if errors.Is(err, pool.ErrBroken) {
				r.broken(err)
			}
			break
		}
		all = append(all, pending{job: job, f: f})
		starts = append(starts, b)
	}
	r.sum.Submitted = len(all)
	if r.opt.Observer != nil {
		r.opt.Observer.Total(len(all))
	}

	fs := make([]*future.Future[*jobState], len(all))
	for i, p := range all {
		fs[i] = p.f
	}
	done, _ := future.Wait(r.ctx, fs, wo.ReturnWhen)
	isDone := make(map[*future.Future[*jobState]]bool, len(done))
	for _, f := range done {
		isDone[f] = true
	}
	sets := &WaitSets{Done: []*Result{}, NotDone: []*NotDone{}}
	var notDone []pending
	for i, p := range all {
		if !isDone[p.f] {
			notDone = append(notDone, p)
			sets.NotDone = append(sets.NotDone, notDoneRecord(p, starts[i].Load()))
		}
	}
	// The run's own deadline or a signal came first: what was not done is
	// cancelled whatever --then says.
	if !wo.Finish || r.ctx.Err() != nil {
		r.cancel(ErrNotDone)
		_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{CancelFutures: true})
	}
	for _, p := range all {
		if isDone[p.f] {
			res := r.waitRecord(p)
			sets.Done = append(sets.Done, res)
		}
	}
	for _, p := range notDone {
		r.waitRecord(p)
	}
	_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true})
	// Each job was counted once, as it was emitted: the not_done ones
	// that --then cancel stopped as cancelled (not failed: the caller
	// asked for it), any that ended first as what they did.
	return sets, r.finish()
}

// waitRecord waits for p and emits it, returning its record.
func (r *run) waitRecord(p pending) *Result {
	<-p.f.Ready()
	return r.emitOne(p)
}

// RenderSets writes the sets as text: one line a job, TAB-separated:
// set, seq, state, exit code (done) and command.
func RenderSets(w io.Writer, s *WaitSets) {
	for _, res := range s.Done {
		fmt.Fprintf(w, "done\t%d\t%s\t%d\t%s\n", res.Seq, res.State, res.ExitCode, oneLine(res.Command))
	}
	for _, nd := range s.NotDone {
		fmt.Fprintf(w, "not_done\t%d\t%s\t-\t%s\n", nd.Seq, nd.State, oneLine(nd.Command))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }
