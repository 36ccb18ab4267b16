package main

// Losing remote workers (--worker-loss break|requeue) and stopping remote
// jobs, over the real sshd and Slurm of daemons_test.go: an sshd session
// killed under a worker, a job step cancelled with scancel, Ctrl-C and the
// runner's own death with jobs running on two hosts.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lossJob is a job that records its pid in dir/pids/ITEM, runs for a
// moment and prints ok; for item 3, the first time, it first runs kill
// (a shell snippet) to take its own worker down.
func lossJob(dir, kill string) []string {
	script := `echo $$ > ` + dir + `/pids/$1
if [ "$1" = 3 ] && mkdir ` + dir + `/killed 2>/dev/null; then ` + kill + `; sleep 30; fi
sleep 0.2; echo ok`
	return []string{"sh", "-c", script, "_"}
}

// killSSHSession KILLs the sshd session process above the job's worker (the
// worker is $PPID; its parent is the session's sshd): the connection drops
// as when a host goes away.
const killSSHSession = `kill -KILL $(awk '{print $4}' /proc/$PPID/stat)`

// cancelStep cancels the Slurm job step the worker runs as.
const cancelStep = `scancel "$SLURM_JOB_ID.$SLURM_STEP_ID"`

// jobsGone waits until no process whose pid a lossJob recorded in dir is
// left, and fails the test naming them if some are after a while.
func jobsGone(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "pids", "*"))
	if len(files) == 0 {
		t.Fatalf("no job recorded its pid in %s", dir)
	}
	deadline := time.Now().Add(patience)
	for {
		var left []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				continue
			}
			if err := syscall.Kill(pid, 0); err == nil && !zombie(pid) {
				left = append(left, filepath.Base(f)+":"+strconv.Itoa(pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still running on their host: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zombie reports whether pid has exited and waits to be reaped (this
// machine's init may leave such processes).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

// lossDir makes the directory of a loss test, with its pids/.
func lossDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkLoss runs the loss test's two policies on launcher args la: under
// break the run exits 3 with every job reported; under requeue every job
// succeeds and the lost one counts a retry.
func checkLoss(t *testing.T, env, wrap, la []string, kill string) {
	const n = 6
	t.Run("break", func(t *testing.T) {
		dir := lossDir(t)
		f, st := run(t, futOpts{env: env, wrap: wrap, args: args("map", la, "--json", lossJob(dir, kill), ":::", items(n))})
		recs := hostRecords(t, f.out())
		if st != 3 || len(recs) != n {
			t.Fatalf("exit status %d with %d records, want 3 with %d; stderr:\n%s", st, len(recs), n, f.errText())
		}
		broken := 0
		for _, r := range recs {
			if strings.Contains(r.Error, "broken") {
				broken++
			}
		}
		if broken == 0 || !strings.Contains(f.errText(), "broken") {
			t.Fatalf("no record or message says the pool broke:\n%s\n%s", f.outText(), f.errText())
		}
		jobsGone(t, dir)
	})
	t.Run("requeue", func(t *testing.T) {
		dir := lossDir(t)
		f, st := run(t, futOpts{env: env, wrap: wrap, args: args("map", la, "--worker-loss", "requeue", "--json", lossJob(dir, kill), ":::", items(n))})
		recs := hostRecords(t, f.out())
		if st != 0 || len(recs) != n {
			t.Fatalf("exit status %d with %d records, want 0 with %d; stderr:\n%s", st, len(recs), n, f.errText())
		}
		for _, r := range recs {
			if r.Stdout != "ok\n" || r.ExitCode != 0 {
				t.Errorf("record %+v: want ok", r)
			}
		}
		if !strings.Contains(f.outText(), `"retries":1`) {
			t.Errorf("the lost job's record does not count a retry:\n%s", f.outText())
		}
		if _, err := os.Stat(filepath.Join(dir, "killed")); err != nil {
			t.Errorf("the job never took its worker down: %v", err)
		}
		jobsGone(t, dir)
	})
}

func TestSSHKilledSessionBreaksOrRequeues(t *testing.T) {
	s := needSSHD(t)
	checkLoss(t, nil, nil, args("-S", "1/h1,1/h2", "--ssh", s.SSH), killSSHSession)
}

func TestSrunCancelledStepBreaksOrRequeues(t *testing.T) {
	sl := needSlurm(t)
	if sl.CPUs < 2 {
		t.Skipf("the node has %d CPU: salloc -n2 cannot be granted", sl.CPUs)
	}
	checkLoss(t, sl.Env, []string{"salloc", "-Q", "-n2"}, args("--launcher", "srun"), cancelStep)
}

// TestSSHInterruptAndDeathStopEveryRemoteJob: Ctrl-C stops the jobs on
// every host (exit 130), and so does the runner's death by SIGKILL (the ssh
// clients die with it; each worker, its stdin closed, kills its job).
func TestSSHInterruptAndDeathStopEveryRemoteJob(t *testing.T) {
	s := needSSHD(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := lossDir(t)
			job := []string{"sh", "-c", `echo $$ > ` + dir + `/pids/$1; exec sleep 300`, "_"}
			f := start(t, futOpts{args: args("map", "-S", "1/h1,1/h2", "--ssh", s.SSH, "--json", job, ":::", items(2))})
			f.waitFor("both jobs to start", func() bool {
				m, _ := filepath.Glob(filepath.Join(dir, "pids", "*"))
				return len(m) == 2
			})
			f.signal(sig)
			st := f.wait()
			if want := 128 + int(sig); st != want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", st, want, f.errText())
			}
			jobsGone(t, dir)
		})
	}
}

// TestSSHTransferReturnCleanup: --trc over ssh sends each input to the
// worker's directory (its initializer's cd: no shared directory with the
// runner), brings the result back and leaves nothing behind on the host;
// the joblog counts the bytes.
func TestSSHTransferReturnCleanup(t *testing.T) {
	s := needSSHD(t)
	dir := t.TempDir()
	remote := filepath.Join(t.TempDir(), "remote")
	inputs := map[string]string{"a.txt": "hello\n", "b.txt": "hi\n", "c.txt": "three\nlines\nhere\n"}
	for name, content := range inputs {
		write(t, filepath.Join(dir, name), content)
	}
	// The first two jobs run at once (a barrier): one on each host.
	f, st := run(t, futOpts{dir: dir, args: args("map", "-S", "1/h1,1/h2", "--ssh", s.SSH,
		"--initializer", "mkdir -p "+remote+"/$FUTURES_WORKER && cd "+remote+"/$FUTURES_WORKER",
		"--joblog", "log", "--trc", "{}.out", barrierThen(t.TempDir(), 2, `wc -c < "$1" > "$1.out"`), "{}", ":::", "a.txt", "b.txt", "c.txt")})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", st, f.errText())
	}
	for name, content := range inputs {
		b, err := os.ReadFile(filepath.Join(dir, name+".out"))
		if want := strconv.Itoa(len(content)) + "\n"; err != nil || string(b) != want {
			t.Errorf("%s.out: %q, %v; want %q", name, b, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != content {
			t.Errorf("the input %s changed: %q", name, b)
		}
	}
	var left []string
	_ = filepath.WalkDir(remote, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("--cleanup left files on the hosts: %v", left)
	}
	hosts := map[string]bool{}
	for _, row := range readJoblog(t, filepath.Join(dir, "log")) {
		hosts[row[1]] = true
		if row[4] == "0" || row[5] == "0" {
			t.Errorf("joblog row %v: Send and Receive should count the files", row)
		}
	}
	if !hosts["h1"] || !hosts["h2"] {
		t.Errorf("joblog hosts %v, want h1 and h2", hosts)
	}
}

// TestSSHInitializerStatePerRemoteWorker: each remote worker runs the
// initializer once, and its jobs see the environment and directory it left.
func TestSSHInitializerStatePerRemoteWorker(t *testing.T) {
	s := needSSHD(t)
	runs := t.TempDir()
	// The first two jobs run at once (a barrier): one on each worker.
	f, st := run(t, futOpts{args: args("map", "-S", "1/h1,1/h2", "--ssh", s.SSH, "--json",
		"--initializer", `export G="init of $FUTURES_WORKER"; cd /tmp; echo once >> `+runs+`/$FUTURES_WORKER`,
		barrierThen(t.TempDir(), 2, `echo "$G in $(pwd)"`), ":::", items(6))})
	if st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", st, f.errText())
	}
	for _, r := range hostRecords(t, f.out()) {
		if want := "init of " + r.Worker + " in /tmp\n"; r.Stdout != want {
			t.Errorf("job %d on %s (%s): %q, want %q", r.Seq, r.Host, r.Worker, r.Stdout, want)
		}
	}
	for _, w := range []string{"worker_0", "worker_1"} {
		if b, err := os.ReadFile(filepath.Join(runs, w)); string(b) != "once\n" {
			t.Errorf("the initializer of %s ran %q times (%v), want once", w, b, err)
		}
	}
}
