package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Throttling (--delay, --load, --memfree): a job starts only when the last
// start is --delay ago, the load average is below --load and at least
// --memfree of memory is available; and when available memory falls below
// half of --memfree, the youngest running job is terminated and started
// again later.

// ParseLoad parses --load: a load average above 0 (2, 1.5), or N% of the
// cpus (100% is one per CPU).
func ParseLoad(s string, cpus int) (float64, error) {
	v, pct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 1e6 {
		return 0, fmt.Errorf("--load %q: want a load average above 0 (2, 1.5) or a share of the CPUs (100%%)", s)
	}
	if pct {
		f = f / 100 * float64(cpus)
	}
	return f, nil
}

// ErrMemFree is the cause given to a job that --memfree terminated; it is
// started again once there is memory.
var ErrMemFree = errors.New("too little memory available (--memfree)")

// checkEvery is how often the throttle reads the load while it holds a job
// back, and how often --memfree looks at memory while jobs run.
const checkEvery = 100 * time.Millisecond

// throttle holds job starts back. Starts go one at a time (turn), so that
// each is judged on a fresh reading and --delay spaces them.
type throttle struct {
	delay   time.Duration
	load    float64 // 0: no limit
	memfree int64   // bytes; 0: no limit

	// The system's readings (sysload.go): /proc's loadavg and meminfo on
	// Linux, sysctl on the BSDs, or the files of Options.ProcDir.
	loadAvg      func() (float64, error)
	memAvailable func() (int64, error)

	turn chan struct{} // held by the start being judged
	last time.Time     // when the last job started; guarded by turn

	mu       sync.Mutex // guards the fields below
	loadAt   time.Time  // when loadVal was read
	loadVal  float64
	memAt    time.Time // when memVal was read
	memVal   int64
	running  map[*slot]struct{}
	evicting *slot // the job --memfree terminated, until its attempt ends

	stop chan struct{}  // ends the memory watcher
	done sync.WaitGroup // the memory watcher
}

// slot is one running attempt that the throttle let start.
type slot struct {
	start   time.Time
	cancel  context.CancelCauseFunc
	evicted bool // guarded by throttle.mu
}

// newThrottle returns the throttle that opt asks for, or nil. It takes a
// reading once, so that a machine without the files (or a system that
// cannot tell, as macOS for --memfree) is a usage error, and starts the
// watcher of --memfree, which close stops.
func newThrottle(opt Options) (*throttle, error) {
	if opt.Delay <= 0 && opt.Load <= 0 && opt.MemFree <= 0 {
		return nil, nil
	}
	t := &throttle{
		delay: opt.Delay, load: opt.Load, memfree: opt.MemFree,
		loadAvg: loadAvgReader, memAvailable: memAvailableReader,
		turn: make(chan struct{}, 1), running: map[*slot]struct{}{},
	}
	if dir := opt.ProcDir; dir != "" {
		t.loadAvg = func() (float64, error) { return readLoad(dir) }
		t.memAvailable = func() (int64, error) { return readMemAvailable(dir) }
	}
	if t.load > 0 {
		if _, err := t.loadAvg(); err != nil {
			return nil, flagError("--load", err)
		}
	}
	if t.memfree > 0 {
		if _, err := t.memAvailable(); err != nil {
			return nil, flagError("--memfree", err)
		}
		t.stop = make(chan struct{})
		t.done.Go(t.watchMemory)
	}
	return t, nil
}

// close stops the memory watcher and waits for it. It may be called on a
// nil throttle.
func (t *throttle) close() {
	if t == nil || t.stop == nil {
		return
	}
	close(t.stop)
	t.done.Wait()
	t.stop = nil
}

// start waits until a job may start, then registers it: the returned
// context is ctx, which --memfree may also cancel (cause ErrMemFree); end
// must be called when the attempt is over. It returns ctx's cause if ctx
// ends first.
func (t *throttle) start(ctx context.Context) (context.Context, *slot, error) {
	select {
	case t.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
	defer func() { <-t.turn }()
	if t.delay > 0 && !t.last.IsZero() {
		if err := sleep(ctx, time.Until(t.last.Add(t.delay))); err != nil {
			return nil, nil, err
		}
	}
	for !t.mayStart() {
		if err := sleep(ctx, checkEvery); err != nil {
			return nil, nil, err
		}
	}
	s := &slot{start: time.Now()}
	t.last = s.start
	sctx, cancel := context.WithCancelCause(ctx)
	s.cancel = cancel
	t.mu.Lock()
	t.running[s] = struct{}{}
	t.mu.Unlock()
	return sctx, s, nil
}

// end unregisters an attempt; it reports whether --memfree terminated it
// (then it is to be started again).
func (t *throttle) end(s *slot) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, s)
	if t.evicting == s {
		t.evicting = nil
	}
	s.cancel(nil)
	return s.evicted
}

// mayStart reports whether the load and memory allow a start now.
func (t *throttle) mayStart() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.load > 0 && t.loadLocked() >= t.load {
		return false
	}
	return t.memfree <= 0 || t.memLocked() >= t.memfree
}

// loadLocked returns the 1-minute load average, read at most every
// checkEvery; an unreadable one counts as too high. t.mu is held.
func (t *throttle) loadLocked() float64 {
	if now := time.Now(); now.Sub(t.loadAt) >= checkEvery {
		v, err := t.loadAvg()
		if err != nil {
			v = t.load
		}
		t.loadAt, t.loadVal = now, v
	}
	return t.loadVal
}

// memLocked returns the available memory in bytes, read at most every
// checkEvery; an unreadable one counts as none. t.mu is held.
func (t *throttle) memLocked() int64 {
	if now := time.Now(); now.Sub(t.memAt) >= checkEvery {
		v, err := t.memAvailable()
		if err != nil {
			v = 0
		}
		t.memAt, t.memVal = now, v
	}
	return t.memVal
}

// watchMemory terminates the youngest running job whenever available
// memory is below half of --memfree, one at a time: the next only once the
// last one's attempt has ended and memory is still short.
func (t *throttle) watchMemory() {
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		if t.evicting == nil && len(t.running) > 0 && t.memLocked() < t.memfree/2 {
			var young *slot
			for s := range t.running {
				if !s.evicted && (young == nil || s.start.After(young.start)) {
					young = s
				}
			}
			if young != nil {
				young.evicted = true
				t.evicting = young
				young.cancel(ErrMemFree)
			}
		}
		t.mu.Unlock()
	}
}

// sleep waits for d, or until ctx ends (then it returns ctx's cause).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// readLoad reads the 1-minute load average from proc/loadavg.
func readLoad(proc string) (float64, error) {
	b, err := os.ReadFile(filepath.Join(proc, "loadavg"))
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, fmt.Errorf("%s: empty", filepath.Join(proc, "loadavg"))
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(proc, "loadavg"), err)
	}
	return v, nil
}

// readMemAvailable reads MemAvailable from proc/meminfo, in bytes.
func readMemAvailable(proc string) (int64, error) {
	name := filepath.Join(proc, "meminfo")
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemAvailable:"))
		if !ok {
			continue
		}
		fs := bytes.Fields(rest)
		if len(fs) == 0 {
			break
		}
		kb, err := strconv.ParseInt(string(fs[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: MemAvailable: %w", name, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no MemAvailable line", name)
}
