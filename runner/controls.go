package runner

import (
	"fmt"
	"io"
	"sync"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/record"
)

// The run's controls beyond the basics: --halt (halt.go), --delay, --load
// and --memfree (throttle.go), --results (results.go) and the write hook
// (writehook.go). These are the few calls that runner.go makes into them.

// setupControls makes the controls that opt asks for. It runs in newRun
// before the run's context exists, and may change opt: StopInput becomes
// callable more than once (--halt soon calls it too; it still runs once).
func (r *run) setupControls(opt *Options) error {
	if opt.StopInput != nil {
		opt.StopInput = sync.OnceFunc(opt.StopInput)
		r.opt.StopInput = opt.StopInput
	}
	r.halt = newHalter(r, *opt)
	r.opt.Observer = r.halt.observer(r.opt.Observer)
	name := opt.Results
	if opt.DryRun {
		name = "" // a dry run changes no file
	}
	res, err := record.OpenResults(name, opt.TempDir, r.budget)
	if err != nil {
		return err
	}
	t, err := newThrottle(*opt)
	if err != nil {
		_ = res.Close()
		return err
	}
	r.results, r.throttle = res, t
	return nil
}

// closeControls stops what setupControls started; it runs in finish.
func (r *run) closeControls() {
	r.throttle.close()
	if err := r.results.Close(); err != nil {
		r.mu.Lock()
		if r.sum.Err == nil {
			r.sum.Err = err
		}
		r.mu.Unlock()
	}
}

// jobEnded is called as each job's task ends, after its retries: its
// result directory is put in place, and the halt policy judges it.
func (r *run) jobEnded(js *jobState) {
	if err := r.results.JobEnded(js.res); err != nil {
		r.fault(err)
	}
	r.halt.jobEnded(js.res)
}

// teeResults gives an attempt's output to --results as well; spooled
// says that the run keeps it in spools, which --results then reads.
func (r *run) teeResults(job *input.Job, spooled bool, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	o, e, err := r.results.Tee(job.Seq, spooled, stdout, stderr)
	if err != nil {
		r.fault(err)
	}
	return o, e
}

// recordResults writes a job's --results record as it is emitted.
func (r *run) recordResults(js *jobState) {
	lost, err := r.results.Write(js.res, js.stdout, js.stderr)
	if lost != nil {
		fmt.Fprintf(r.stderr, "futures: %v\n", lost)
	}
	if err != nil {
		r.fault(err)
	}
}
