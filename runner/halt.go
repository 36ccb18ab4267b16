package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/input"
)

// HaltWhen is what a --halt policy does once its condition is met.
type HaltWhen int

const (
	// HaltNever never halts (the default).
	HaltNever HaltWhen = iota
	// HaltSoon starts no new job and cancels the pending ones, but lets
	// the running jobs finish.
	HaltSoon
	// HaltNow also terminates the running jobs (TERM, KILL after
	// --grace).
	HaltNow
)

// HaltOn is what a --halt policy counts.
type HaltOn int

const (
	// HaltFail counts failed jobs.
	HaltFail HaltOn = iota
	// HaltSuccess counts succeeded jobs.
	HaltSuccess
	// HaltDone counts finished jobs, failed or not.
	HaltDone
)

// Halt is a --halt policy, as GNU parallel defines it: when Count jobs (or
// Percent per cent of all the jobs) have failed, succeeded or finished,
// halt soon or now. It is judged as each job ends, after its retries; jobs
// that the run itself cancelled or terminated are not counted.
//
// A percentage is of the total number of jobs, which futures knows only
// once the input has ended (GNU parallel reads the whole input first;
// futures streams it), so a percentage is judged from then on.
type Halt struct {
	When    HaltWhen
	On      HaltOn
	Count   int     // halt once this many jobs count, or
	Percent float64 // once this per cent of all the jobs do (0 < Percent ≤ 100)
}

// ErrHalt is the cause of the cancellation of the jobs that a --halt
// policy stopped.
var ErrHalt = errors.New("stopped by --halt")

// ParseHalt parses a --halt value: never, soon|now,fail|success|done=N|N%,
// and GNU parallel's short forms 0 (never), 1 (soon,fail=1), 2
// (now,fail=1), -1 (soon,success=1), -2 (now,success=1) and N%
// (soon,fail=N%).
func ParseHalt(s string) (Halt, error) {
	short := map[string]string{"0": "never", "1": "soon,fail=1", "2": "now,fail=1", "-1": "soon,success=1", "-2": "now,success=1"}
	v := s
	if l, ok := short[v]; ok {
		v = l
	} else if strings.HasSuffix(v, "%") && !strings.Contains(v, ",") {
		v = "soon,fail=" + v
	}
	bad := func(why string) (Halt, error) {
		return Halt{}, fmt.Errorf("--halt %q: %s (want never, or soon|now,fail|success|done=N|N%%)", s, why)
	}
	if v == "never" {
		return Halt{}, nil
	}
	when, rest, ok := strings.Cut(v, ",")
	var h Halt
	switch when {
	case "soon":
		h.When = HaltSoon
	case "now":
		h.When = HaltNow
	default:
		return bad("it must start with never, soon or now")
	}
	on, n, ok2 := strings.Cut(rest, "=")
	if !ok || !ok2 {
		return bad("missing fail=, success= or done=")
	}
	switch on {
	case "fail":
		h.On = HaltFail
	case "success":
		h.On = HaltSuccess
	case "done":
		h.On = HaltDone
	default:
		return bad(on + " is not fail, success or done")
	}
	if p, ok := strings.CutSuffix(n, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f > 0 && f <= 100) {
			return bad("the percentage must be more than 0 and at most 100")
		}
		h.Percent = f
		return h, nil
	}
	c, err := strconv.Atoi(n)
	if err != nil || c < 1 {
		return bad("the count must be 1 or more")
	}
	h.Count = c
	return h, nil
}

// String renders h as --halt takes it.
func (h Halt) String() string {
	if h.When == HaltNever {
		return "never"
	}
	s := "soon,"
	if h.When == HaltNow {
		s = "now,"
	}
	s += [...]string{"fail=", "success=", "done="}[h.On]
	if h.Percent > 0 {
		return s + strconv.FormatFloat(h.Percent, 'f', -1, 64) + "%"
	}
	return s + strconv.Itoa(h.Count)
}

// halter applies a run's halt policy: --halt, or --fail-fast (now,fail=1).
type halter struct {
	r      *run
	policy Halt
	cause  error // what the jobs that halting stops are told

	mu        sync.Mutex // guards the counts and total
	failed    int
	succeeded int
	total     int // -1 until the input has ended

	halted atomic.Bool
}

// newHalter returns the halter for opt, or nil when nothing halts.
func newHalter(r *run, opt Options) *halter {
	h := &halter{r: r, policy: opt.Halt, total: -1}
	switch {
	case opt.FailFast:
		h.policy = Halt{When: HaltNow, On: HaltFail, Count: 1}
		h.cause = ErrFailFast
	case opt.Halt.When == HaltNever:
		return nil
	default:
		h.cause = fmt.Errorf("%w %s", ErrHalt, opt.Halt)
	}
	return h
}

// stopped reports whether the run halted (soon or now). It may be called
// on a nil halter.
func (h *halter) stopped() bool { return h != nil && h.halted.Load() }

// jobEnded counts a job that ended (after its retries) and halts the run
// when the policy says so.
func (h *halter) jobEnded(res *Result) {
	if h == nil || res.Cancelled() {
		return
	}
	h.mu.Lock()
	if res.Succeeded() {
		h.succeeded++
	} else {
		h.failed++
	}
	reached := h.reachedLocked()
	h.mu.Unlock()
	if reached {
		h.halt()
	}
}

// setTotal learns the total number of jobs, which a percentage needs.
func (h *halter) setTotal(n int) {
	h.mu.Lock()
	h.total = n
	reached := h.reachedLocked()
	h.mu.Unlock()
	if reached {
		h.halt()
	}
}

// reachedLocked reports whether the policy's condition holds; h.mu is
// held.
func (h *halter) reachedLocked() bool {
	n := h.failed
	switch h.policy.On {
	case HaltSuccess:
		n = h.succeeded
	case HaltDone:
		n = h.failed + h.succeeded
	}
	if h.policy.Percent > 0 {
		return h.total > 0 && n > 0 && float64(n)*100 >= h.policy.Percent*float64(h.total)
	}
	return n >= h.policy.Count
}

// halt stops the run once: now cancels the run's context (the pending
// futures are cancelled and the running jobs terminated, as on a signal);
// soon stops the input and cancels the pending futures, and the running
// jobs go on.
func (h *halter) halt() {
	if !h.halted.CompareAndSwap(false, true) {
		return
	}
	if h.policy.When == HaltNow {
		h.r.cancel(h.cause)
		return
	}
	if h.r.opt.StopInput != nil {
		h.r.opt.StopInput()
	}
	_ = h.r.pool.Shutdown(context.Background(), pool.ShutdownOptions{CancelFutures: true})
}

// source wraps the run's Source: once the run has halted, the input ends
// (and a read that StopInput broke off is not a fault).
func (h *halter) source(src input.Source) input.Source {
	if h == nil {
		return src
	}
	return func() (*input.Job, error) {
		if h.stopped() {
			return nil, io.EOF
		}
		job, err := src()
		if err != nil && h.stopped() {
			return nil, io.EOF
		}
		return job, err
	}
}

// observer returns next wrapped so that the halter learns the total.
func (h *halter) observer(next Observer) Observer {
	if h == nil {
		return next
	}
	return totalObserver{h: h, next: next}
}

// totalObserver tells a halter the total number of jobs, and passes
// everything on to next (which may be nil).
type totalObserver struct {
	h    *halter
	next Observer
}

func (o totalObserver) Total(n int) {
	o.h.setTotal(n)
	if o.next != nil {
		o.next.Total(n)
	}
}

func (o totalObserver) Finished(r *Result, c Counts) {
	if o.next != nil {
		o.next.Finished(r, c)
	}
}
