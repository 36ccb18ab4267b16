package main

// Workers on other machines, over a real sshd and a real Slurm cluster
// (daemons_test.go): the binary sent once and reused, --remote-futures,
// hosts with caches of their own, the worker count from a host's
// handshake, srun inside an allocation.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// hostRecord is the part of a --json record these tests look at.
type hostRecord struct {
	Seq      int    `json:"seq"`
	Worker   string `json:"worker"`
	Host     string `json:"host"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	Stdout   string `json:"stdout"`
}

func hostRecords(t *testing.T, b []byte) []hostRecord {
	t.Helper()
	var recs []hostRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r hostRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("a --json line does not decode: %v: %.200q", err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

// sshLogin is an -S login of the GNU form `SSH-COMMAND HOST` that reaches
// host of s with a remote cache of its own, cache, for a test that must
// see the first send.
func sshLogin(s *SSHD, host, cache string) string {
	return s.SSH + " -o SetEnv=XDG_CACHE_HOME=" + cache + " " + host
}

// cachedFutures is the binary a run sent into cache, which must hold one.
func cachedFutures(t *testing.T, cache string) (string, os.FileInfo) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(cache, "futures", "*", "futures"))
	if len(paths) != 1 {
		t.Fatalf("%s holds %d futures binaries, want 1: %v", cache, len(paths), paths)
	}
	fi, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return paths[0], fi
}

var sentNote = regexp.MustCompile(`(?m)^futures: .*h1: sent futures \S+ \([0-9.]+ MB\) to \S+/futures$`)

func TestSSHSendsTheBinaryOnceAndReusesIt(t *testing.T) {
	s := needSSHD(t)
	cache := filepath.Join(t.TempDir(), "cache")
	login := sshLogin(s, "h1", cache)
	f, st := run(t, futOpts{args: args("map", "-S", "2/"+login, "--json", "-k", "echo", ":::", "a", "b", "c")})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", st, f.errText())
	}
	if !sentNote.MatchString(f.errText()) {
		t.Errorf("no note of the binary sent in stderr:\n%s", f.errText())
	}
	recs := hostRecords(t, f.out())
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(recs), f.outText())
	}
	for _, r := range recs {
		if r.Host != login || r.ExitCode != 0 {
			t.Errorf("record %+v, want host %q and exit code 0", r, login)
		}
	}
	path, before := cachedFutures(t, cache)

	// The second run finds it: nothing sent, the file untouched.
	f, st = run(t, futOpts{args: args("map", "-S", login, "echo", ":::", "d")})
	if st != 0 || f.outText() != "d\n" {
		t.Fatalf("second run: exit status %d, stdout %q; stderr:\n%s", st, f.outText(), f.errText())
	}
	if strings.Contains(f.errText(), "sent") {
		t.Errorf("second run sent the binary again:\n%s", f.errText())
	}
	_, after := cachedFutures(t, cache)
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%s changed: inode %d → %d, mtime %v → %v", path,
			before.Sys().(*syscall.Stat_t).Ino, after.Sys().(*syscall.Stat_t).Ino, before.ModTime(), after.ModTime())
	}

	// --remote-futures: that binary, as it is; nothing looked for or sent.
	f, st = run(t, futOpts{args: args("map", "-S", "h1", "--ssh", s.SSH, "--remote-futures", path, "echo", ":::", "e")})
	if st != 0 || f.outText() != "e\n" || strings.Contains(f.errText(), "sent") {
		t.Errorf("--remote-futures %s: exit status %d, stdout %q; stderr:\n%s", path, st, f.outText(), f.errText())
	}
}

func TestSSHRemoteFuturesThatIsNotThereNamesTheHost(t *testing.T) {
	s := needSSHD(t)
	f, st := run(t, futOpts{args: args("map", "-S", "h2", "--ssh", s.SSH, "--remote-futures", "/no/such/futures", "echo", ":::", "a")})
	want := regexp.MustCompile(`(?m)^futures: pool: process pool is broken: h2: starting /no/such/futures worker: .*/no/such/futures.* \(exit status 127\)$`)
	if st != 3 || !want.MatchString(f.errText()) || f.outText() != "" {
		t.Errorf("exit status %d, stdout %q, stderr:\n%s\nwant 3 and %s", st, f.outText(), f.errText(), want)
	}
}

func TestSSHUnreachableHostIsAnErrorWithSSHsOwnWords(t *testing.T) {
	s := needSSHD(t)
	// Port 1: nothing listens there.
	f, st := run(t, futOpts{args: args("map", "-S", s.SSH+" -p 1 h1", "echo", ":::", "a")})
	if st != 3 || !strings.Contains(f.errText(), "h1: probing the host: ssh: connect to host 127.0.0.1 port 1: Connection refused") {
		t.Errorf("exit status %d, stderr:\n%s", st, f.errText())
	}
}

func TestSSHTwoHostsWithCachesOfTheirOwn(t *testing.T) {
	s := needSSHD(t)
	// The daemon's aliases, as they are: each has its own XDG_CACHE_HOME.
	// The first two jobs run at once (a barrier): one on each host.
	n := 6
	f, st := run(t, futOpts{args: args("map", "-S", "1/h1,1/h2", "--ssh", s.SSH, "--json", "-k",
		barrierThen(t.TempDir(), 2, `echo "$XDG_CACHE_HOME"`), ":::", items(n))})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", st, f.errText())
	}
	perHost := map[string]int{}
	for _, r := range hostRecords(t, f.out()) {
		perHost[r.Host]++
		if want := s.CacheDir(r.Host) + "\n"; r.Stdout != want {
			t.Errorf("job %d on %s: XDG_CACHE_HOME %q, want %q", r.Seq, r.Host, r.Stdout, want)
		}
	}
	if perHost["h1"] == 0 || perHost["h2"] == 0 || perHost["h1"]+perHost["h2"] != n {
		t.Errorf("jobs per host %v, want some on each of h1 and h2, %d in all", perHost, n)
	}
	if !strings.Contains(f.errText(), "hosts: h1×") || !strings.Contains(f.errText(), " h2×") {
		t.Errorf("the summary does not count the hosts:\n%s", f.errText())
	}
	for _, h := range []string{"h1", "h2"} {
		cachedFutures(t, s.CacheDir(h))
	}
}

// barrier is a job that waits until n jobs have started (in dir, shared:
// the hosts are this machine), so that the run ends only if n jobs run at
// once.
func barrier(dir string, n int) []string { return barrierThen(dir, n, "echo ok") }

// barrierThen is barrier's job with then (a shell command) in place of its
// echo ok. A test that wants jobs on every worker needs it: any idle worker
// takes the next job, and a quick one can take them all before another
// worker has taken any.
func barrierThen(dir string, n int, then string) []string {
	return []string{"sh", "-c", fmt.Sprintf(`touch %s/$1; i=0; until [ $(ls %s | wc -l) -ge %d ]; do i=$((i+1)); [ $i -lt 600 ] || exit 9; sleep 0.05; done; %s`, dir, dir, n, then), "_"}
}

func TestSSHHostWithoutNRunsAWorkerPerCPUItReports(t *testing.T) {
	s := needSSHD(t)
	cpus := runtime.NumCPU() // the host is this machine
	dir := t.TempDir()
	f, st := run(t, futOpts{args: args("map", "-S", "h1", "--ssh", s.SSH, "--json", barrier(dir, cpus), ":::", items(cpus))})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s\nstdout:\n%s", st, f.errText(), f.outText())
	}
	workers := map[string]bool{}
	for _, r := range hostRecords(t, f.out()) {
		workers[r.Worker] = true
	}
	if len(workers) != cpus {
		t.Errorf("workers %v, want %d", workers, cpus)
	}

	// N/ says how many, whatever the host has.
	f, st = run(t, futOpts{args: args("map", "-S", "1/h1", "--ssh", s.SSH, "--json", "sh", "-c", "echo $FUTURES_WORKER", "_", ":::", items(3))})
	if st != 0 || strings.Count(f.outText(), `"stdout":"worker_0\n"`) != 3 {
		t.Errorf("-S 1/h1: exit status %d, stdout:\n%s\nstderr:\n%s", st, f.outText(), f.errText())
	}
}

func TestSrunWorkersInsideAnAllocation(t *testing.T) {
	sl := needSlurm(t)
	if sl.CPUs < 2 {
		t.Skipf("the node has %d CPU: salloc -n2 cannot be granted", sl.CPUs)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// -j is $SLURM_NTASKS, 2: the barrier of 2 passes only with two
	// workers, each a job step.
	f, st := run(t, futOpts{env: sl.Env, wrap: []string{"salloc", "-Q", "-n2"},
		args: args("map", "--launcher", "srun", "--json", barrier(dir, 2), ":::", items(4))})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s\nstdout:\n%s", st, f.errText(), f.outText())
	}
	recs := hostRecords(t, f.out())
	workers := map[string]bool{}
	for _, r := range recs {
		workers[r.Worker] = true
		if r.Host != host || r.Stdout != "ok\n" {
			t.Errorf("record %+v: want host %q (the node's, from its worker) and ok", r, host)
		}
	}
	if len(recs) != 4 || len(workers) != 2 {
		t.Errorf("%d records by workers %v, want 4 by 2", len(recs), workers)
	}

	// Outside an allocation: a usage error.
	f, st = run(t, futOpts{env: append(sl.Env, "SLURM_JOB_ID="), args: args("map", "--launcher", "srun", "echo", ":::", "a")})
	if st != 2 || !strings.Contains(f.errText(), "--launcher srun: run inside a Slurm allocation") {
		t.Errorf("outside an allocation: exit status %d, stderr:\n%s", st, f.errText())
	}
}
