package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
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
	Done    []*Result `json:"done"`
	NotDone []*Result `json:"not_done"`
}

// RunWait submits every job of src, waits on all their futures as
// future.Wait does with wo.ReturnWhen (or until the overall timeout or a
// signal), then cancels or finishes the rest. Jobs' output is written as
// in Run, in completion order, once the wait has returned. The sets are
// returned for rendering; with opt.JSON no per-job line is written.
func RunWait(ctx context.Context, opt Options, wo WaitOptions, src Source) (*WaitSets, *Summary) {
	opt.KeepOrder = false
	r, err := newRun(ctx, opt)
	if err != nil {
		return nil, setupSummary(ctx, err)
	}
	defer r.cancel(nil)
	r.collect = true

	var all []pending
	for r.ctx.Err() == nil {
		job, ok := r.nextJob(src)
		if !ok {
			break
		}
		f, err := r.pool.Submit(r.ctx, r.task(job))
		if err != nil {
			if errors.Is(err, pool.ErrBroken) {
				r.broken(err)
			}
			break
		}
		all = append(all, pending{job: job, f: f})
	}
	r.sum.Submitted = len(all)
	if r.opt.Observer != nil {
		r.opt.Observer.Total(len(all))
	}

	fs := make([]*future.Future[*Result], len(all))
	for i, p := range all {
		fs[i] = p.f
	}
	done, _ := future.Wait(r.ctx, fs, wo.ReturnWhen)
	isDone := make(map[*future.Future[*Result]]bool, len(done))
	for _, f := range done {
		isDone[f] = true
	}
	sets := &WaitSets{Done: []*Result{}, NotDone: []*Result{}}
	var notDone []pending
	for _, p := range all {
		if !isDone[p.f] {
			notDone = append(notDone, p)
			c, _ := p.job.Command(0)
			sets.NotDone = append(sets.NotDone, &Result{
				Seq: p.job.Seq, Args: p.job.Args, Command: c.Line, State: p.f.State().String(),
			})
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
	sum := r.finish()
	if errors.Is(context.Cause(r.ctx), ErrNotDone) {
		// Not a failure: the caller asked for it.
		sum.Cancelled, sum.Failed, sum.TimedOut = 0, 0, 0
		for _, res := range sets.Done {
			r.count(sum, res)
		}
		sum.Cancelled += len(notDone)
	}
	return sets, sum
}

// waitRecord waits for p and emits it, returning its record.
func (r *run) waitRecord(p pending) *Result {
	<-doneChan(p.f)
	return r.emitOne(p)
}

// doneChan is closed when f is done.
func doneChan[T any](f *future.Future[T]) <-chan struct{} {
	ch := make(chan struct{})
	f.AddDoneCallback(func(*future.Future[T]) { close(ch) })
	return ch
}

// RenderSets writes the sets as text: one line a job, TAB-separated:
// set, seq, state, exit code (done) and command.
func RenderSets(w io.Writer, s *WaitSets) {
	for _, res := range s.Done {
		fmt.Fprintf(w, "done\t%d\t%s\t%d\t%s\n", res.Seq, res.State, res.ExitCode, oneLine(res.Command))
	}
	for _, res := range s.NotDone {
		fmt.Fprintf(w, "not_done\t%d\t%s\t-\t%s\n", res.Seq, res.State, oneLine(res.Command))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }
