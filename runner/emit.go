package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/output"
	"github.com/futures-cli/futures/runner/record"
)

// Emitting: the consumer side of a run. emit takes the done futures in
// completion order (or input order with -k) and writes each job's output and
// records once (record), the one place a job is counted.

// emit drains q, writing each job's output and record, until the producer
// is done and every submitted job has been emitted. When the run is
// cancelled it cancels the pending futures and still emits their records.
func (r *run) emit(q *queue) {
	cancelled := false
	onCancel := func() {
		if !cancelled {
			cancelled = true
			_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{CancelFutures: true})
		}
	}
	if q.ordered != nil {
		for p := range q.ordered {
			r.waitFuture(p, onCancel)
			<-q.slots
		}
		<-q.inputDone
	} else {
		seen, inputDone, ctxDone := 0, q.inputDone, r.ctx.Done()
		for inputDone != nil || seen < q.n {
			select {
			case <-q.ready:
				for _, p := range q.pop() {
					r.emitOne(p)
					seen++
					<-q.slots
				}
			case <-inputDone:
				inputDone = nil
			case <-ctxDone:
				onCancel()
				ctxDone = nil
			}
		}
	}
	r.sum.Submitted = q.n
	_ = r.pool.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true, CancelFutures: r.ctx.Err() != nil})
}

// waitFuture waits for p's future (cancelling the pending ones when the run
// ends) and emits it.
func (r *run) waitFuture(p pending, onCancel func()) {
	if r.ctx.Err() != nil {
		onCancel()
	}
	if !p.f.Done() {
		select {
		case <-p.f.Ready():
		case <-r.ctx.Done():
			onCancel()
			<-p.f.Ready()
		}
	}
	r.emitOne(p)
}

// emitOne writes one finished future's output and record.
func (r *run) emitOne(p pending) *Result {
	js, err := p.f.Result(context.Background())
	var je *jobError
	if errors.As(err, &je) {
		js = je.js
	}
	if js == nil {
		// It reached no worker (cancelled, or failed by a broken pool):
		// its command is the one a dry run shows, as a job that reached
		// one but did not start says its own.
		c, _ := p.job.Command(r.dryRunSlot(p.job))
		res := &record.Result{Seq: p.job.Seq, Args: p.job.Args, Command: c.Line}
		js = &jobState{res: res}
		switch {
		case errors.Is(err, future.ErrCancelled):
			res.State = future.Cancelled
			res.Error = "cancelled"
			if c := context.Cause(r.ctx); c != nil {
				res.Error = "cancelled: " + c.Error()
			}
		case errors.Is(err, pool.ErrBroken):
			res.State = future.Finished
			res.Error = err.Error()
			res.ExitCode = -1
			r.broken(err)
		default:
			res.State = future.Finished
			res.ExitCode = -1
			if err != nil {
				res.Error = err.Error()
			}
		}
	}
	r.record(js)
	return js.res
}

// record writes a job's output, JSON line, --results record and joblog
// row, and counts it.
func (r *run) record(js *jobState) {
	res := js.res
	if res.Args == nil {
		res.Args = []string{}
	}
	r.sum.Add(res)
	if r.opt.JSON && r.collect {
		// wait: the records are kept, whole, for its sets.
		if js.stdout != nil {
			res.Stdout = js.stdout.String()
		}
		if js.stderr != nil {
			res.Stderr = js.stderr.String()
		}
	} else if r.opt.JSON {
		r.writeJSON(js)
	} else if js.stdout != nil {
		var prefix []byte
		if r.opt.Tag {
			prefix = []byte(strings.Join(res.Args, " ") + "\t")
		}
		_ = r.stdout.WriteGroup(js.stdout, prefix)
		_ = r.stderr.WriteGroup(js.stderr, prefix)
	}
	r.recordResults(js)
	js.close()
	if js.lost != nil && !r.opt.JSON {
		// JSON has it in the record's "error"; plain output must say so.
		fmt.Fprintf(r.stderr, "futures: job %d: output lost: %v\n", res.Seq, js.lost)
	}
	if r.ctx.Err() == nil && (r.stdout.Err() != nil || r.diedOfClosedStdout(res)) {
		r.stdoutFailed()
	}
	// A job the run stopped (a signal, --timeout, --halt now, --fail-fast)
	// did not complete: as GNU parallel, no row, so --resume runs it again.
	if r.joblog != nil && res.Completed() {
		if err := r.joblog.Write(res); err != nil && r.sum.Err == nil {
			r.fault(fmt.Errorf("joblog: %w", err))
		}
	}
	if r.opt.Observer != nil {
		r.opt.Observer.Finished(res, r.sum.Counts())
	}
}

// writeJSON writes a job's JSON line to stdout (--json), its output
// streamed from its spools.
func (r *run) writeJSON(js *jobState) {
	var lost error
	_ = r.stdout.Locked(nil, func(w io.Writer) error {
		var err error
		lost, err = record.WriteJSON(w, js.res, js.stdout, js.stderr)
		return err
	})
	if lost != nil {
		fmt.Fprintf(r.stderr, "futures: %v\n", lost)
	}
}

// stdoutFailed stops the run once stdout cannot be written: quietly when
// its reader went away (EPIPE, as | head -1 does: exit status 141), as a
// fault otherwise (a full disk, a file too large: the output is lost, and
// the run says so and fails).
func (r *run) stdoutFailed() {
	err := r.stdout.Err()
	if err == nil || errors.Is(err, syscall.EPIPE) {
		r.cancel(ErrStdoutClosed)
		return
	}
	r.fault(fmt.Errorf("writing stdout: %w", err))
}

// diedOfClosedStdout reports whether res is a job of --output ungroup
// that died of SIGPIPE writing to the run's stdout, whose reader is gone
// (| head -1): the runner never writes there itself, so this is how it
// learns that stdout is closed.
func (r *run) diedOfClosedStdout(res *Result) bool {
	return r.opt.Output == Ungroup && !r.opt.JSON && res.ExitCode == 128+int(syscall.SIGPIPE) &&
		output.ReaderGone(r.opt.Stdout)
}
