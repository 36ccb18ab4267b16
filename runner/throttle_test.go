package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fakeProc makes a directory with loadavg and meminfo files, for
// Options.ProcDir.
func fakeProc(t *testing.T, load string, memKB string) string {
	t.Helper()
	dir := t.TempDir()
	setLoad(t, dir, load)
	setMem(t, dir, memKB)
	return dir
}

// setLoad and setMem replace a fake /proc file at once (a rename), so a
// reader never sees it half-written.
func setLoad(t *testing.T, dir, load string) {
	t.Helper()
	writeAtomically(t, filepath.Join(dir, "loadavg"), load+" 0.50 0.40 1/200 12345\n")
}

func setMem(t *testing.T, dir, kb string) {
	t.Helper()
	writeAtomically(t, filepath.Join(dir, "meminfo"), "MemTotal:       16000000 kB\nMemFree:          100000 kB\nMemAvailable:   "+kb+" kB\n")
}

func writeAtomically(t *testing.T, name, s string) {
	t.Helper()
	if err := os.WriteFile(name+".new", []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".new", name); err != nil {
		t.Fatal(err)
	}
}

func TestReadProc(t *testing.T) {
	dir := fakeProc(t, "3.25", "2048")
	if v, err := readLoad(dir); err != nil || v != 3.25 {
		t.Fatalf("readLoad = %v, %v", v, err)
	}
	if v, err := readMemAvailable(dir); err != nil || v != 2048<<10 {
		t.Fatalf("readMemAvailable = %v, %v", v, err)
	}
	if _, err := readLoad(t.TempDir()); err == nil {
		t.Fatal("readLoad of a missing file: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readMemAvailable(dir); err == nil {
		t.Fatal("meminfo without MemAvailable: no error")
	}
	// The real ones, where there are.
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		if _, err := readMemAvailable("/proc"); err != nil {
			t.Fatal(err)
		}
		if _, err := readLoad("/proc"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDelay(t *testing.T) {
	const d = 150 * time.Millisecond
	t.Run("the throttle lets starts through at least D apart", func(t *testing.T) {
		th, err := newThrottle(Options{Delay: d})
		if err != nil {
			t.Fatal(err)
		}
		defer th.close()
		var starts []time.Time
		for range 3 {
			_, s, err := th.start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			starts = append(starts, s.start)
			th.end(s)
		}
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < d {
				t.Fatalf("starts %v apart, want at least %v", gap, d)
			}
		}
	})
	// A job's record has the time its process started, some time after the
	// throttle let it through: on a loaded machine one job can take longer
	// to get there than the next, and two records be less than D apart.
	// What holds whatever the load: the k-th job starts at least (k-1)×D
	// after the run began.
	t.Run("a run's k-th job starts at least (k-1)×D after the run began", func(t *testing.T) {
		began := time.Now()
		sum, obs, _ := runLines(t, Options{Workers: 3, Delay: d}, "true", "true", "true")
		if sum.Succeeded != 3 {
			t.Fatalf("%s", sum)
		}
		var starts []time.Time
		for _, r := range obs.recs {
			starts = append(starts, r.Start)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
		for k, s := range starts {
			if after, want := s.Sub(began), time.Duration(k)*d; after < want {
				t.Fatalf("job %d of the run started %v after it began, want at least %v", k+1, after, want)
			}
		}
	})
}

func TestLoadHoldsJobsBack(t *testing.T) {
	t.Run("no job starts while the load is high", func(t *testing.T) {
		proc := fakeProc(t, "9.00", "1000000")
		sum, obs, _ := runLines(t, Options{Workers: 2, Load: 2, ProcDir: proc, Timeout: 400 * time.Millisecond}, "true", "true")
		if sum.Succeeded != 0 || sum.Cancelled != 2 || sum.ExitStatus() != 4 {
			t.Fatalf("%s; exit %d", sum, sum.ExitStatus())
		}
		for _, r := range obs.recs {
			if r.Started {
				t.Fatalf("job %d started", r.Seq)
			}
		}
	})
	t.Run("jobs start once the load falls", func(t *testing.T) {
		proc := fakeProc(t, "9.00", "1000000")
		released := make(chan time.Time, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			now := time.Now()
			if err := os.WriteFile(filepath.Join(proc, "loadavg"), []byte("0.10 0 0 1/1 1\n"), 0o644); err != nil {
				t.Error(err)
			}
			released <- now
		}()
		sum, obs, _ := runLines(t, Options{Workers: 2, Load: 2, ProcDir: proc}, "true", "true")
		at := <-released
		if sum.Succeeded != 2 {
			t.Fatalf("%s", sum)
		}
		for _, r := range obs.recs {
			if r.Start.Before(at) {
				t.Fatalf("job %d started at %v, before the load fell at %v", r.Seq, r.Start, at)
			}
		}
	})
}

func TestMemFree(t *testing.T) {
	t.Run("no job starts while memory is short", func(t *testing.T) {
		proc := fakeProc(t, "0.1", "1000")
		sum, _, _ := runLines(t, Options{Workers: 2, MemFree: 100 << 20, ProcDir: proc, Timeout: 400 * time.Millisecond}, "true")
		if sum.Succeeded != 0 || sum.Cancelled != 1 {
			t.Fatalf("%s", sum)
		}
	})
	t.Run("a job terminated below half runs again", func(t *testing.T) {
		proc := fakeProc(t, "0.1", "1000000") // about 1 GB
		dir := t.TempDir()
		terminated := filepath.Join(dir, "terminated")
		errs := make(chan error, 1)
		go func() {
			errs <- func() error {
				for _, name := range []string{"first-1", "first-2"} {
					if err := waitFile(filepath.Join(dir, name)); err != nil {
						return err
					}
				}
				// 1 MB: below half of --memfree.
				if err := os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemAvailable: 1000 kB\n"), 0o644); err != nil {
					return err
				}
				if err := waitFile(terminated); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(proc, "meminfo"), []byte("MemAvailable: 1000000 kB\n"), 0o644)
			}()
		}()
		// Each job: on its first run it waits for the other to be
		// terminated, or is terminated itself; on a second run it says so.
		job := func(n string) string {
			return "cd " + dir + "; if [ -e first-" + n + " ]; then echo second-" + n + "; exit 0; fi; touch first-" + n +
				"; trap 'touch terminated; exit 143' TERM; while [ ! -e terminated ]; do sleep 0.05; done"
		}
		sum, _, out := runLines(t, Options{Workers: 2, MemFree: 100 << 20, ProcDir: proc}, job("1"), job("2"))
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if sum.Succeeded != 2 || sum.Failed != 0 || sum.Cancelled != 0 {
			t.Fatalf("%s\n%s", sum, out)
		}
		// One job was terminated and ran again (if the watcher read the
		// memory before the test put it back, the other one too).
		if !strings.Contains(out, "second-") {
			t.Fatalf("no job ran again: %q", out)
		}
	})
}

// waitFile waits, up to patience, for name to exist.
func waitFile(name string) error {
	deadline := time.Now().Add(patience)
	for {
		if _, err := os.Stat(name); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s never appeared", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMemFreeTerminatesTheYoungest(t *testing.T) {
	proc := fakeProc(t, "0.1", "1000000")
	th, err := newThrottle(Options{MemFree: 100 << 20, ProcDir: proc})
	if err != nil {
		t.Fatal(err)
	}
	defer th.close()
	ctx := context.Background()
	_, older, err := th.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	yctx, younger, err := th.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	setMem(t, proc, "1000")
	select {
	case <-yctx.Done():
	case <-time.After(patience):
		t.Fatal("the younger job was not terminated")
	}
	if !errors.Is(context.Cause(yctx), ErrMemFree) {
		t.Fatalf("cause %v", context.Cause(yctx))
	}
	setMem(t, proc, "1000000")
	th.mu.Lock()
	th.memAt = time.Time{} // read afresh: the watcher must see memory back
	th.mu.Unlock()
	if !th.end(younger) {
		t.Fatal("end does not report the younger one as evicted")
	}
	if th.end(older) {
		t.Fatal("the older one was evicted too")
	}
}

func TestParseLoad(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     float64
		bad      bool
	}{
		{"a number is a load average", "2", 2, false},
		{"a fraction is allowed", "1.5", 1.5, false},
		{"a percentage is of the CPUs", "150%", 6, false},
		{"zero is refused", "0", 0, true},
		{"zero percent is refused", "0%", 0, true},
		{"a negative load is refused", "-1", 0, true},
		{"not a number is refused", "NaN", 0, true},
		{"a word is refused", "high", 0, true},
		{"an absurd load is refused", "2e6", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLoad(tc.in, 4)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("ParseLoad(%q, 4) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
			}
			if want := fmt.Sprintf("--load %q: want a load average above 0 (2, 1.5) or a share of the CPUs (100%%)", tc.in); tc.bad && err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}
