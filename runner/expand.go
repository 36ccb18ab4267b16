package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/shell"
)

// ErrBadJobs is Expand's error when some jobs' commands could not be
// made (each said why on Stderr); the others were given to yield.
var ErrBadJobs = errors.New("some jobs could not be made")

// Expand reads jobs from src as Run would and gives each one's command to
// yield in input order, running none and changing no file (it is a dry
// run that hands the commands over): `futures map --detach` and `submit
// --detach` submit them to a service. A job whose command cannot be made
// (a bad line) is reported on opt.Stderr and skipped, and Expand then
// returns an error wrapping ErrBadJobs; an error from yield stops it and
// is returned.
func Expand(ctx context.Context, opt Options, src input.Source, yield func(seq int, c shell.Command) error) error {
	opt.DryRun = true
	r, err := newRun(ctx, opt)
	if err != nil {
		return err
	}
	defer r.cancel(nil)
	var yerr error
	bad := 0
	for r.ctx.Err() == nil {
		job, ok := r.nextJob(src)
		if !ok {
			break
		}
		r.sum.Submitted++
		c, err := job.Command(1)
		if err != nil {
			fmt.Fprintf(r.stderr, "futures: %v\n", err)
			bad++
			continue
		}
		if yerr = yield(job.Seq, c); yerr != nil {
			if r.opt.StopInput != nil {
				r.opt.StopInput()
			}
			break
		}
	}
	sum := r.finish()
	switch {
	case yerr != nil:
		return yerr
	case sum.Err != nil:
		return sum.Err
	case bad > 0:
		return fmt.Errorf("%w: %d of %d", ErrBadJobs, bad, sum.Submitted)
	}
	return context.Cause(ctx)
}
