package pool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/futures-cli/futures/pool/job"
)

func TestSpreadTakesOneWorkerFromEachHostInTurn(t *testing.T) {
	l := &LocalLauncher{}
	for _, tc := range []struct {
		hosts []Host
		want  string // host of each slot
	}{
		{[]Host{{Name: "a", Launcher: l, Workers: 1}}, "a"},
		{[]Host{{Name: "a", Launcher: l, Workers: 2}, {Name: "b", Launcher: l, Workers: 1}}, "a b a"},
		{[]Host{{Name: "a", Launcher: l, Workers: 1}, {Name: "b", Launcher: l, Workers: 3}}, "a b b b"},
		{[]Host{{Name: "a", Launcher: l, Workers: 2}, {Name: "b", Launcher: l, Workers: 2}, {Name: "c", Launcher: l, Workers: 1}}, "a b c a b"},
	} {
		slots := spread(tc.hosts, "w")
		var got []string
		for i, s := range slots {
			if s.id != i || s.name != "w_"+string(rune('0'+i)) {
				t.Errorf("slot %d: id %d name %q", i, s.id, s.name)
			}
			got = append(got, s.host.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("spread(%v) = %v, want %s", tc.hosts, got, tc.want)
		}
	}
}

func TestSpreadRefusesAHostWithoutWorkers(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a host with 0 workers")
		}
	}()
	spread([]Host{{Name: "a", Launcher: &LocalLauncher{}}}, "w")
}

// hostJob is a task that reports the host it ran on. Once its job has run
// on its worker, it says so on started (unless nil) and waits for release.
func hostJob(started chan<- struct{}, release <-chan struct{}) Task[string] {
	return func(ctx context.Context) (string, error) {
		if _, err := RunJob(ctx, job.Spec{Line: "true", Shell: true}, nil, nil, nil); err != nil {
			return "", err
		}
		if started != nil {
			started <- struct{}{}
		}
		<-release
		return WorkerHost(ctx) + " " + WorkerName(ctx), nil
	}
}

func TestAPoolOfTwoHostsRunsWorkersOnEach(t *testing.T) {
	l := testLauncher(t)
	p := newTestProcessPool(t, ProcessOptions{Hosts: []Host{
		{Name: "a", Launcher: l, Workers: 2}, {Name: "b", Launcher: l, Workers: 1},
	}})
	// Each task holds its worker until all three run: any idle worker
	// takes the next task, and the first could take all three before the
	// others had taken any.
	started, release := make(chan struct{}, 3), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	var fs []string
	var futs []func() (string, error)
	for range 3 {
		f := psubmit(t, p, hostJob(started, release))
		futs = append(futs, func() (string, error) { return result(t, f) })
	}
	within(t, "the three tasks to run at once", func() {
		for range 3 {
			<-started
		}
	})
	free()
	for _, f := range futs {
		v, err := f()
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, v)
	}
	slices.Sort(fs)
	if want := []string{"a worker_0", "a worker_2", "b worker_1"}; !slices.Equal(fs, want) {
		t.Fatalf("tasks ran on %q, want %q", fs, want)
	}
}

func TestWorkerHostIsTheWorkersHostnameWhenTheHostHasNoName(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{Hosts: []Host{{Launcher: testLauncher(t), Workers: 1}}})
	release := make(chan struct{})
	close(release)
	got, err := result(t, psubmit(t, p, hostJob(nil, release)))
	host, _ := os.Hostname()
	if err != nil || got != host+" worker_0" {
		t.Fatalf("got %q, %v; want %q", got, err, host+" worker_0")
	}
}

// killWorkerOnce is a task whose job kills its worker process the first
// time it runs (marker file absent) and succeeds after.
func killWorkerOnce(marker string, runs *atomic.Int32) Task[string] {
	return func(ctx context.Context) (string, error) {
		runs.Add(1)
		line := "if [ -e " + marker + " ]; then echo ok; else touch " + marker + "; kill -KILL $PPID; sleep 5; fi"
		return shellJob(line)(ctx)
	}
}

func TestUnderRequeueALostWorkersTaskRunsAgainOnAFreshWorker(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, WorkerLoss: LossRequeue})
	var runs atomic.Int32
	got, err := result(t, psubmit(t, p, killWorkerOnce(filepath.Join(t.TempDir(), "m"), &runs)))
	if err != nil || got != "ok\n" || runs.Load() != 2 {
		t.Fatalf("got %q, %v after %d runs; want ok after 2", got, err, runs.Load())
	}
	// The pool is not broken: it takes more work.
	if got, err := result(t, psubmit(t, p, shellJob("echo again"))); err != nil || got != "again\n" {
		t.Fatalf("after the loss: %q, %v", got, err)
	}
}

func TestUnderRequeueATaskLostTwiceFailsWithErrWorkerLost(t *testing.T) {
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, WorkerLoss: LossRequeue, MaxRestarts: 5})
	var runs atomic.Int32
	task := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return shellJob("kill -KILL $PPID; sleep 5")(ctx)
	}
	_, err := result(t, psubmit(t, p, task))
	if !errors.Is(err, ErrWorkerLost) || errors.Is(err, ErrBroken) || runs.Load() != 2 {
		t.Fatalf("err = %v after %d runs; want ErrWorkerLost (not Broken) after 2", err, runs.Load())
	}
	if got, err := result(t, psubmit(t, p, shellJob("echo still"))); err != nil || got != "still\n" {
		t.Fatalf("after two losses: %q, %v", got, err)
	}
}

func TestUnderRequeueAHostThatCannotStartWorkersIsDropped(t *testing.T) {
	bad := &LocalLauncher{Command: []string{"/bin/sh", "-c", "echo cannot start >&2; exit 2"}}
	var mu sync.Mutex
	var dropped []string
	// The tasks wait until bad is dropped: bad's worker must fail twice.
	release := make(chan struct{})
	p := newTestProcessPool(t, ProcessOptions{
		Hosts:       []Host{{Name: "bad", Launcher: bad, Workers: 1}, {Name: "good", Launcher: testLauncher(t), Workers: 1}},
		WorkerLoss:  LossRequeue,
		MaxRestarts: 1,
		OnHostDropped: func(host string, err error) {
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(err.Error(), "cannot start") {
				t.Errorf("dropped %s with %v: no stderr of the worker", host, err)
			}
			dropped = append(dropped, host)
			close(release)
		},
	})
	var fs []func() (string, error)
	for range 6 {
		f := psubmit(t, p, hostJob(nil, release))
		fs = append(fs, func() (string, error) { return result(t, f) })
	}
	for i, f := range fs {
		got, err := f()
		if err != nil || !strings.HasPrefix(got, "good ") {
			t.Fatalf("task %d: %q, %v; want it run on good", i, got, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(dropped, []string{"bad"}) {
		t.Fatalf("dropped %v, want [bad]", dropped)
	}
}

func TestUnderRequeueThePoolBreaksWhenNoHostIsLeft(t *testing.T) {
	bad := &LocalLauncher{Command: []string{"/bin/sh", "-c", "exit 2"}}
	p := newTestProcessPool(t, ProcessOptions{
		Hosts:      []Host{{Name: "x", Launcher: bad, Workers: 1}, {Name: "y", Launcher: bad, Workers: 1}},
		WorkerLoss: LossRequeue, MaxRestarts: 1,
	})
	f1 := psubmit(t, p, shellJob("true"))
	f2 := psubmit(t, p, shellJob("true"))
	for _, f := range []func() (string, error){func() (string, error) { return result(t, f1) }, func() (string, error) { return result(t, f2) }} {
		if _, err := f(); !errors.Is(err, ErrBrokenProcessPool) {
			t.Fatalf("err = %v, want ErrBrokenProcessPool", err)
		}
	}
	if _, err := p.Submit(context.Background(), shellJob("true")); !errors.Is(err, ErrBrokenProcessPool) {
		t.Fatalf("Submit after: %v", err)
	}
}
