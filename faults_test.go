package main

// The fault-injection suite: each test drives the real futures binary (the
// test binary, which TestMain installs as `futures` on PATH) into a fault —
// a signal at a chosen moment, a closed pipe, a missing or full spool
// directory, bad input, a runner killed with SIGKILL — and checks what
// users rely on (README, "Guarantees"): no process left behind, no output
// lost or mixed, an exit status that tells the truth.
//
// Every process of a test run carries FUTURES_FAULT_MARK=<unique> in its
// environment (jobs inherit the runner's), so leftovers are found by
// scanning /proc. Jobs report that they started by creating files; tests
// wait on such conditions with generous deadlines, never on sleeps. The
// slow cases (tens of thousands of jobs) are in faults_slow_test.go, behind
// the faults build tag: make test-faults.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultExecutors are the executors every case runs under, where it
// applies.
var faultExecutors = []string{"thread", "process"}

// forEachExecutor runs fn as a subtest per executor.
func forEachExecutor(t *testing.T, fn func(t *testing.T, ex string)) {
	for _, ex := range faultExecutors {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			fn(t, ex)
		})
	}
}

const (
	markEnv = "FUTURES_FAULT_MARK"
	// patience bounds every wait of this suite: the machine may be shared
	// and slow; a correct run is far quicker.
	patience = 90 * time.Second
)

// fut is one run of the futures binary.
type fut struct {
	t       *testing.T
	cmd     *exec.Cmd
	mark    string
	dir     string // the test's directory, FAULT_DIR in the jobs' environment
	outPath string
	errPath string
	exited  chan struct{}
	drained chan struct{} // closed once a piped stdout is all in outPath
}

// futOpts say how to start futures.
type futOpts struct {
	args   []string
	stdin  io.Reader // nil: /dev/null
	stdout *os.File  // nil: a file, read with out()
	env    []string  // added to the environment
	dir    string    // working directory and FAULT_DIR; "": a new temporary one
	wrap   []string  // a command that execs the rest: wrap... futures args...
	// pipe: stdout is a pipe the test drains into the file out() reads,
	// not the file itself (which a resource limit of futures would cut).
	pipe bool
}

var futuresBin = sync.OnceValues(func() (string, error) { return exec.LookPath("futures") })

// start starts futures with o.
func start(t *testing.T, o futOpts) *fut {
	t.Helper()
	bin, err := futuresBin()
	if err != nil {
		t.Fatalf("futures is not on PATH (TestMain installs it): %v", err)
	}
	f := &fut{t: t, mark: newMark(t), dir: o.dir, exited: make(chan struct{})}
	if f.dir == "" {
		f.dir = t.TempDir()
	}
	for _, d := range []string{"started", "term"} {
		if err := os.MkdirAll(filepath.Join(f.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	argv := append(append(slices.Clone(o.wrap), bin), o.args...)
	f.cmd = exec.Command(argv[0], argv[1:]...)
	f.cmd.Dir = f.dir
	f.cmd.Env = append(os.Environ(), markEnv+"="+f.mark, "FAULT_DIR="+f.dir)
	if os.Getenv("GORACE") == "" {
		// Under -race, futures is a race-built binary, whose every exit
		// (workers' too) sleeps a second for late reports: not here.
		f.cmd.Env = append(f.cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	f.cmd.Env = append(f.cmd.Env, o.env...)
	f.cmd.Stdin = o.stdin
	// Files, not pipes: a leftover holding the runner's output must not
	// make the wait hang, and nothing is lost whatever the runner does.
	f.outPath = filepath.Join(t.TempDir(), "stdout")
	f.errPath = filepath.Join(t.TempDir(), "stderr")
	stdout := o.stdout
	f.drained = make(chan struct{})
	switch {
	case o.pipe:
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		file := create(t, f.outPath)
		go func() {
			defer close(f.drained)
			defer file.Close()
			defer pr.Close()
			_, _ = io.Copy(file, pr)
		}()
		stdout = pw
		defer pw.Close()
	case stdout == nil:
		stdout = create(t, f.outPath)
		defer stdout.Close()
		close(f.drained)
	default:
		close(f.drained)
	}
	stderr := create(t, f.errPath)
	defer stderr.Close()
	f.cmd.Stdout, f.cmd.Stderr = stdout, stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = f.cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-f.exited:
		default:
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
		for _, p := range markedProcesses(f.mark) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	return f
}

func create(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run starts futures and waits for it.
func run(t *testing.T, o futOpts) (*fut, int) {
	t.Helper()
	f := start(t, o)
	return f, f.wait()
}

func newMark(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()) + "." + hex.EncodeToString(b[:])
}

// wait waits for futures to exit and returns its status as a shell says
// it: 128+N when signal N killed it.
func (f *fut) wait() int {
	f.t.Helper()
	select {
	case <-f.exited:
	case <-time.After(patience):
		_ = f.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump in stderr
		select {
		case <-f.exited:
		case <-time.After(5 * time.Second):
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
		f.t.Fatalf("futures %q did not exit within %v\nstderr:\n%s", f.cmd.Args[1:], patience, tail(f.errText()))
	}
	select {
	case <-f.drained:
	case <-time.After(patience):
		f.t.Fatalf("futures exited, and something still holds its stdout")
	}
	ws := f.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// signal sends sig to the runner.
func (f *fut) signal(sig syscall.Signal) {
	f.t.Helper()
	if err := f.cmd.Process.Signal(sig); err != nil {
		f.t.Fatalf("signalling futures: %v", err)
	}
}

func (f *fut) out() []byte {
	b, err := os.ReadFile(f.outPath)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fut) outText() string { return string(f.out()) }

func (f *fut) errText() string {
	b, err := os.ReadFile(f.errPath)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// count returns the number of files in the subdirectory sub of the test
// directory (started/, term/: one per job that got there).
func (f *fut) count(sub string) int {
	names, _ := os.ReadDir(filepath.Join(f.dir, sub))
	return len(names)
}

// waitFor polls cond until it holds, failing the test after patience.
func (f *fut) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		select {
		case <-f.exited:
			if cond() {
				return
			}
			f.t.Fatalf("futures exited before %s\nstderr:\n%s", what, tail(f.errText()))
		default:
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("waited %v for %s\nstderr:\n%s", patience, what, tail(f.errText()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noLeftovers checks that no process of the run is left, once futures has
// exited: it polls for a while, as a killed process takes a moment to go.
func (f *fut) noLeftovers() {
	f.t.Helper()
	deadline := time.Now().Add(patience / 3)
	for {
		ps := markedProcesses(f.mark)
		if len(ps) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, p := range ps {
				fmt.Fprintf(&b, "\n  %d %s", p.pid, p.cmdline)
			}
			f.t.Fatalf("processes left behind by futures %q:%s", f.cmd.Args[1:], b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type process struct {
	pid     int
	cmdline string
}

// markedProcesses returns the live (not zombie) processes whose
// environment holds FUTURES_FAULT_MARK=mark.
func markedProcesses(mark string) []process {
	want := []byte("\x00" + markEnv + "=" + mark + "\x00")
	names, _ := filepath.Glob("/proc/[0-9]*")
	var ps []process
	for _, dir := range names {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(dir + "/stat")
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
			continue
		}
		env, err := os.ReadFile(dir + "/environ")
		if err != nil || !bytes.Contains(append([]byte{0}, env...), want) {
			continue
		}
		cmdline, _ := os.ReadFile(dir + "/cmdline")
		ps = append(ps, process{pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))})
	}
	return ps
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// items returns the decimal numbers from 1 to n.
func items(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i + 1)
	}
	return s
}

// args builds a command line: the parts, flattened.
func args(parts ...any) []string {
	var a []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			a = append(a, p)
		case []string:
			a = append(a, p...)
		default:
			panic(fmt.Sprintf("args: %T", p))
		}
	}
	return a
}

// started is the line of a job script that tells the test it has started.
const started = `echo $$ > "$FAULT_DIR/started/${FUTURES_SEQ}"`

// --- Signals -----------------------------------------------------------

// TestFaultSignalMidRunStopsEveryJobAndKeepsTheRecords: SIGINT, SIGTERM or
// SIGHUP to the runner while jobs run: exit 128+N, the finished jobs'
// output and joblog rows intact (and no row for the jobs it stopped), the
// summary written, and no process left, grandchildren included.
func TestFaultSignalMidRunStopsEveryJobAndKeepsTheRecords(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(sig.String(), func(t *testing.T) {
				t.Parallel()
				script := `if [ "$1" -le 3 ]; then echo done-$1; exit 0; fi
sleep 300 & (sleep 300 &)
` + started + `
wait`
				f := start(t, futOpts{args: args("map", "--executor", ex, "-j2", "--grace", "30s",
					"--joblog", "log", "sh", "-c", script, "_", ":::", items(10))})
				f.waitFor("jobs 4 and 5 to start", func() bool { return f.count("started") == 2 })
				f.signal(sig)
				if got, want := f.wait(), 128+int(sig); got != want {
					t.Errorf("exit status %d, want %d\nstderr:\n%s", got, want, f.errText())
				}
				f.noLeftovers()
				if got, want := f.outText(), "done-1\ndone-2\ndone-3\n"; got != want {
					t.Errorf("stdout %q, want %q", got, want)
				}
				if !regexp.MustCompile(`(?m)^futures: 3 succeeded, 0 failed, 7 cancelled, 0 timed out in .*; exit codes: 0×3$`).MatchString(f.errText()) {
					t.Errorf("no summary line saying 3 succeeded, 7 cancelled:\n%s", f.errText())
				}
				rows := readJoblog(t, filepath.Join(f.dir, "log"))
				for seq := 1; seq <= 3; seq++ {
					if r, ok := rows[seq]; !ok || r[6] != "0" || r[7] != "0" {
						t.Errorf("joblog row of finished job %d: %q (present: %v)", seq, r, ok)
					}
				}
				for seq := range rows {
					if seq > 3 { // 4 and 5 were terminated, the rest never started
						t.Errorf("joblog has a row for job %d, which did not complete (--resume must run it again)", seq)
					}
				}
			})
		}
	})
}

// readJoblog parses a joblog, checking that every row is whole.
func readJoblog(t *testing.T, path string) map[int][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("joblog ends in the middle of a row: %q", tail(string(b)))
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand" {
		t.Errorf("joblog header %q", lines[0])
	}
	rows := map[int][]string{}
	for _, l := range lines[1:] {
		fields := strings.SplitN(l, "\t", 9)
		seq, err := strconv.Atoi(fields[0])
		if len(fields) != 9 || err != nil {
			t.Errorf("joblog row cut short or garbled: %q", l)
			continue
		}
		if _, dup := rows[seq]; dup {
			t.Errorf("joblog has job %d twice", seq)
		}
		rows[seq] = fields
	}
	return rows
}

// TestFaultSecondInterruptKillsAtOnce: jobs that ignore TERM, a --grace far
// longer than the test's patience: the second SIGINT KILLs them at once.
func TestFaultSecondInterruptKillsAtOnce(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		script := `trap 'touch "$FAULT_DIR/term/$1"' TERM
` + started + `
while :; do sleep 0.05; done`
		f := start(t, futOpts{args: args("map", "--executor", ex, "-j2", "--grace", "1h",
			"sh", "-c", script, "_", ":::", "1", "2", "3")})
		f.waitFor("two jobs to start", func() bool { return f.count("started") == 2 })
		f.signal(syscall.SIGINT)
		f.waitFor("both jobs to get TERM", func() bool { return f.count("term") == 2 })
		f.signal(syscall.SIGINT)
		if got := f.wait(); got != 130 {
			t.Errorf("exit status %d, want 130\nstderr:\n%s", got, f.errText())
		}
		f.noLeftovers()
	})
}

// TestFaultJobIgnoringTermIsKilledAfterGrace: on cancel (SIGINT) and on
// --job-timeout, a job that ignores TERM is KILLed once --grace has passed,
// not before, and nothing of it is left.
func TestFaultJobIgnoringTermIsKilledAfterGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	script := `trap '' TERM
` + started + `
while :; do sleep 0.05; done`
	forEachExecutor(t, func(t *testing.T, ex string) {
		t.Run("cancel", func(t *testing.T) {
			t.Parallel()
			f := start(t, futOpts{args: args("map", "--executor", ex, "-j2", "--grace", grace.String(),
				"sh", "-c", script, "_", ":::", "1", "2")})
			f.waitFor("the jobs to start", func() bool { return f.count("started") == 2 })
			sent := time.Now()
			f.signal(syscall.SIGINT)
			if got := f.wait(); got != 130 {
				t.Errorf("exit status %d, want 130\nstderr:\n%s", got, f.errText())
			}
			if d := time.Since(sent); d < grace {
				t.Errorf("futures exited %v after SIGINT: jobs that ignore TERM were killed before --grace %v", d, grace)
			}
			f.noLeftovers()
		})
		t.Run("job timeout", func(t *testing.T) {
			t.Parallel()
			f, st := run(t, futOpts{args: args("map", "--executor", ex, "--json", "--job-timeout", "1s",
				"--grace", grace.String(), "sh", "-c", script, "_", ":::", "1")})
			if st != 1 {
				t.Errorf("exit status %d, want 1\nstderr:\n%s", st, f.errText())
			}
			rec := decodeRecords(t, f.out())[1]
			if rec.Signal != "SIGKILL" || rec.ExitCode != 137 || rec.Error != "terminated: job timeout" {
				t.Errorf("record: signal %q, exit %d, error %q; want SIGKILL, 137, terminated: job timeout", rec.Signal, rec.ExitCode, rec.Error)
			}
			// The timeout runs from before the job's start (it counts the
			// fork and exec): the KILL comes at least --grace after its
			// start, whatever the load.
			if rec.DurationMS < float64(grace.Milliseconds()) {
				t.Errorf("job ran %vms: KILLed before --grace %v had passed", rec.DurationMS, grace)
			}
			f.noLeftovers()
		})
	})
}

// grandchildren is a job that starts processes in every way a shell can:
// in the background, orphaned, ignoring TERM, with children of their own.
// FAULT_MODE=leave makes it exit at once, leaving them.
const grandchildren = `sleep 300 &
(sleep 300 &)
(trap '' TERM; exec sleep 300) &
sh -c 'sleep 300 & wait' &
` + started + `
[ "$FAULT_MODE" = leave ] && exit 0
sleep 300`

// TestFaultGrandchildrenDieWithTheirJob: whatever ends a job — a cancel,
// its --job-timeout, its own exit, the runner's exit or death — every
// process it started goes with it, background ones included.
func TestFaultGrandchildrenDieWithTheirJob(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		common := []string{"map", "--executor", ex, "-j3", "--grace", "500ms"}
		t.Run("cancel", func(t *testing.T) {
			t.Parallel()
			f := start(t, futOpts{args: args(common, "sh", "-c", grandchildren, "_", ":::", items(3))})
			f.waitFor("the jobs to start", func() bool { return f.count("started") == 3 })
			f.signal(syscall.SIGINT)
			if st := f.wait(); st != 130 {
				t.Errorf("exit status %d, want 130", st)
			}
			f.noLeftovers()
		})
		t.Run("job timeout", func(t *testing.T) {
			t.Parallel()
			f, st := run(t, futOpts{args: args(common, "--job-timeout", "2s", "sh", "-c", grandchildren, "_", ":::", items(3))})
			if st != 1 || !strings.Contains(f.errText(), "3 timed out") {
				t.Errorf("exit status %d, want 1 with 3 jobs timed out\nstderr:\n%s", st, f.errText())
			}
			if f.count("started") != 3 {
				t.Logf("only %d jobs got to start their children before the timeout", f.count("started"))
			}
			f.noLeftovers()
		})
		t.Run("the job exits", func(t *testing.T) {
			t.Parallel()
			f, st := run(t, futOpts{args: args(common, "sh", "-c", grandchildren, "_", ":::", items(3)),
				env: []string{"FAULT_MODE=leave"}})
			if st != 0 {
				t.Errorf("exit status %d, want 0\nstderr:\n%s", st, f.errText())
			}
			f.noLeftovers()
		})
		t.Run("the runner is killed", func(t *testing.T) {
			t.Parallel()
			f := start(t, futOpts{args: args(common, "sh", "-c", grandchildren, "_", ":::", items(6))})
			f.waitFor("the jobs to start", func() bool { return f.count("started") == 3 })
			f.signal(syscall.SIGKILL)
			f.wait()
			f.noLeftovers()
		})
		t.Run("futures in a job of futures, the outer runner killed", func(t *testing.T) {
			t.Parallel()
			bin, _ := futuresBin()
			var inner []string
			for _, a := range args(bin, common, "sh", "-c", grandchildren, "_", ":::", items(3)) {
				inner = append(inner, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
			}
			f := start(t, futOpts{args: args("submit", "-0", "--executor", ex), stdin: strings.NewReader(strings.Join(inner, " "))})
			f.waitFor("the inner jobs to start", func() bool { return f.count("started") == 3 })
			f.signal(syscall.SIGKILL)
			f.wait()
			f.noLeftovers()
		})
		if _, err := exec.LookPath("bash"); err == nil {
			// bash's job control puts a background job in a process group
			// of its own: out of the job's group, still in the session.
			escapee := `set -m; sleep 300 & sleep 300 & ` + started + `; [ "$FAULT_MODE" = leave ] && exit 0; sleep 300`
			t.Run("a job-control shell, when the runner exits", func(t *testing.T) {
				t.Parallel()
				f, st := run(t, futOpts{args: args(common, "bash", "-c", escapee, "_", ":::", items(2)),
					env: []string{"FAULT_MODE=leave"}})
				// The escapees hold the job's output: reported, not silent.
				if st != 1 || !strings.Contains(f.errText(), "output lost: a process that left the job's process group still holds its output") {
					t.Errorf("exit status %d, want 1 and a message saying output was lost\nstderr:\n%s", st, f.errText())
				}
				f.noLeftovers()
			})
			t.Run("a job-control shell, when the runner is killed", func(t *testing.T) {
				t.Parallel()
				f := start(t, futOpts{args: args(common, "bash", "-c", escapee, "_", ":::", items(2))})
				f.waitFor("the jobs to start", func() bool { return f.count("started") == 2 })
				f.signal(syscall.SIGKILL)
				f.wait()
				f.noLeftovers()
			})
		}
	})
}

// TestFaultRunnerKilledTakesItsJobsAlong: SIGKILL to the runner, which
// cannot act on it: its jobs die too (Pdeathsig, a closed output pipe, the
// guard), started with or without a shell, writing or silent.
func TestFaultRunnerKilledTakesItsJobsAlong(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		cmds := strings.Join([]string{
			`sh -c '` + started + `; exec sleep 300'`,
			`sh -c '` + started + `; while :; do echo tick; sleep 0.01; done'`,
			`sh -c '` + started + `; while :; do echo tick >&2; sleep 0.01; done'`,
			`sh -c '` + started + `; sleep 300; echo never'`,
			`sleep 300`,
		}, "\n") + "\n"
		for _, mode := range []string{"group", "line", "ungroup"} {
			t.Run(mode, func(t *testing.T) {
				t.Parallel()
				f := start(t, futOpts{args: args("submit", "--executor", ex, "-j5", "--output", mode),
					stdin: strings.NewReader(cmds)})
				f.waitFor("the jobs to start", func() bool { return f.count("started") == 4 })
				f.signal(syscall.SIGKILL)
				f.wait()
				f.noLeftovers()
			})
		}
	})
}

// TestFaultInterruptWhileInputIsStillOpen: a signal or the overall
// --timeout ends a run whose input never ends (stdin kept open, a FIFO),
// at any moment: in its first instants, while it reads, between jobs.
func TestFaultInterruptWhileInputIsStillOpen(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, tc := range []struct {
			name  string
			cmd   []string
			delay time.Duration // -1: once the first job's output is out
		}{
			{"map, at once", []string{"map", "echo"}, 0},
			{"map, after 300ms", []string{"map", "echo"}, 300 * time.Millisecond},
			{"map, after the first job", []string{"map", "echo"}, -1},
			{"submit, after the first job", []string{"submit"}, -1},
			{"submit -k, after the first job", []string{"submit", "-k"}, -1},
			{"wait, after 1s", []string{"wait"}, time.Second},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer pw.Close()
				f := start(t, futOpts{args: args(tc.cmd[0], "--executor", ex, tc.cmd[1:]), stdin: pr})
				pr.Close()
				line := "x\n"
				if tc.cmd[0] != "map" {
					line = "echo x\n"
				}
				if _, err := pw.WriteString(line); err != nil {
					t.Fatal(err)
				}
				switch {
				case tc.delay < 0:
					f.waitFor("the first job's output", func() bool { return strings.Contains(f.outText(), "x\n") })
				case tc.delay > 0:
					time.Sleep(tc.delay) // a moment of the run, not a wait for a condition
				}
				f.signal(syscall.SIGINT)
				if st := f.wait(); st != 130 {
					t.Errorf("exit status %d, want 130\nstderr:\n%s", st, f.errText())
				}
				if strings.Contains(f.errText(), "i/o timeout") || strings.Contains(f.errText(), "panic") {
					t.Errorf("stderr:\n%s", f.errText())
				}
				f.noLeftovers()
			})
		}
		t.Run("overall timeout", func(t *testing.T) {
			t.Parallel()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			f := start(t, futOpts{args: args("map", "--executor", ex, "--timeout", "5s", "echo"), stdin: pr})
			pr.Close()
			if _, err := pw.WriteString("a\n"); err != nil {
				t.Fatal(err)
			}
			if st := f.wait(); st != 4 {
				t.Errorf("exit status %d, want 4\nstderr:\n%s", st, f.errText())
			}
			if f.outText() != "a\n" {
				t.Errorf("stdout %q, want the first item's job's", f.outText())
			}
			f.noLeftovers()
		})
		t.Run("-a FIFO", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip("no FIFO:", err)
			}
			f := start(t, futOpts{args: args("map", "--executor", ex, "-a", fifo, "echo"), dir: dir})
			// Read-write: the open does not wait for futures to open the
			// FIFO, and futures never sees its end.
			w, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.WriteString("y\n"); err != nil {
				t.Fatal(err)
			}
			f.waitFor("the first job's output", func() bool { return f.outText() == "y\n" })
			f.signal(syscall.SIGTERM)
			if st := f.wait(); st != 143 {
				t.Errorf("exit status %d, want 143\nstderr:\n%s", st, f.errText())
			}
		})
	})
}

// --- Pipes -------------------------------------------------------------

// TestFaultClosedStdoutStopsQuietly: the reader of stdout goes away
// (| head -1), in every output mode: futures stops at once, says nothing,
// exits 141, leaves nothing running.
func TestFaultClosedStdoutStopsQuietly(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, mode := range [][]string{{"--output", "group"}, {"--output", "line"}, {"--output", "ungroup"}, {"--json"}} {
			t.Run(strings.Join(mode, " "), func(t *testing.T) {
				t.Parallel()
				const n = 300
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				script := started + `; echo $1; sleep 0.2; echo $1-again; sleep 300 &`
				f := start(t, futOpts{args: args("map", "--executor", ex, "-j4", mode, "sh", "-c", script, "_", ":::", items(n)),
					stdout: pw})
				pw.Close()
				if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
					t.Fatalf("reading the first line: %v", err)
				}
				pr.Close()
				if st := f.wait(); st != 141 {
					t.Errorf("exit status %d, want 141", st)
				}
				if s := f.errText(); s != "" {
					t.Errorf("stderr not quiet:\n%s", s)
				}
				if c := f.count("started"); c > n/2 {
					t.Errorf("%d of %d jobs started after stdout was closed: not a prompt stop", c, n)
				}
				f.noLeftovers()
			})
		}
	})
}

// TestFaultJobClosingItsStdoutOrWritingOnlyStderr: a job that closes its
// stdout early, or writes to stderr only, is an ordinary job: its stderr
// arrives whole, exit 0.
func TestFaultJobClosingItsStdoutOrWritingOnlyStderr(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, mode := range []string{"group", "line", "ungroup"} {
			for _, script := range []string{`exec >&-; sleep 0.05; echo err-$1 >&2`, `echo err-$1 >&2`} {
				t.Run(mode+"/"+script, func(t *testing.T) {
					t.Parallel()
					f, st := run(t, futOpts{args: args("map", "-q", "--executor", ex, "-j4", "--output", mode,
						"sh", "-c", script, "_", ":::", items(20))})
					if st != 0 {
						t.Errorf("exit status %d, want 0\nstderr:\n%s", st, f.errText())
					}
					if out := f.outText(); out != "" {
						t.Errorf("stdout %q, want nothing", out)
					}
					var want []string
					for _, i := range items(20) {
						want = append(want, "err-"+i)
					}
					got := strings.Split(strings.TrimSuffix(f.errText(), "\n"), "\n")
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("stderr lines %q, want %q", got, want)
					}
				})
			}
		}
	})
}

// --- Output integrity --------------------------------------------------

// TestFaultEveryByteArrivesOnceUnmixed: 300 jobs each print one 6 KB line
// (in several writes, from several processes) and a short one, and a line
// to stderr: every line arrives exactly once, whole; in group mode a job's
// lines stay together; stderr never leaks into stdout.
func TestFaultEveryByteArrivesOnceUnmixed(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	var nums, letters strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&nums, "%d\n", i)
		fmt.Fprintf(&letters, "%c\n", 'a'+i%26)
	}
	write(t, filepath.Join(dir, "nums"), nums.String())
	write(t, filepath.Join(dir, "letters"), letters.String())
	script := `printf '%s:' "$1"
head -c 3000 /dev/zero | tr '\0' "$2"
head -c 3000 /dev/zero | tr '\0' "$2"
printf ':%s\n' "$1"
echo "err-$1" >&2
echo "end-$1"`
	line := func(i int) string {
		return fmt.Sprintf("%d:%s:%d", i, strings.Repeat(string(rune('a'+i%26)), 6000), i)
	}
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, mode := range []string{"group", "line"} {
			for _, tag := range []bool{false, true} {
				name := mode
				if tag {
					name += " --tag"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					a := args("map", "-q", "--executor", ex, "-j8", "--output", mode, "-a", "nums", "-a", "letters")
					if tag {
						a = append(a, "--tag")
					}
					f, st := run(t, futOpts{args: args(a, "sh", "-c", script, "_", "{1}", "{2}"), dir: dir})
					if st != 0 {
						t.Fatalf("exit status %d\nstderr:\n%s", st, tail(f.errText()))
					}
					prefix := func(i int) string {
						if tag {
							return fmt.Sprintf("%d %c\t", i, 'a'+i%26)
						}
						return ""
					}
					out := strings.Split(strings.TrimSuffix(f.outText(), "\n"), "\n")
					seen := map[string]int{}
					for k, l := range out {
						seen[l]++
						if tag {
							_, l, _ = strings.Cut(l, "\t")
						}
						if i, ok := longLine(l); ok && mode == "group" {
							// In group mode the job's next line follows at once.
							if next := safeIndex(out, k+1); next != prefix(i)+fmt.Sprintf("end-%d", i) {
								t.Errorf("group output of job %d mixed with another's: next line %.80q", i, next)
							}
						}
					}
					for i := 1; i <= n; i++ {
						for _, want := range []string{prefix(i) + line(i), prefix(i) + fmt.Sprintf("end-%d", i)} {
							if seen[want] != 1 {
								t.Errorf("line %.40q… of job %d arrived %d times", want, i, seen[want])
							}
							delete(seen, want)
						}
					}
					for l, c := range seen {
						t.Errorf("unexpected (split or mixed) line ×%d: %.80q…", c, l)
					}
					errs := strings.Split(strings.TrimSuffix(f.errText(), "\n"), "\n")
					if len(errs) != n {
						t.Errorf("%d stderr lines, want %d", len(errs), n)
					}
					for _, l := range errs {
						if !regexp.MustCompile(`^(\d+ [a-z]\t)?err-\d+$`).MatchString(l) {
							t.Errorf("stderr line %.80q", l)
						}
					}
				})
			}
		}
	})
}

// longLine parses a line "N:LLL…L:N" of 6000 letters, the long line of
// job N.
func longLine(l string) (int, bool) {
	parts := strings.Split(l, ":")
	if len(parts) != 3 || parts[0] != parts[2] || len(parts[1]) != 6000 ||
		strings.Count(parts[1], parts[1][:1]) != 6000 {
		return 0, false
	}
	i, err := strconv.Atoi(parts[0])
	return i, err == nil
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// record is the part of a --json record the suite checks.
type record struct {
	Seq      int      `json:"seq"`
	Args     []string `json:"args"`
	State    string   `json:"state"`
	ExitCode int      `json:"exit_code"`
	Signal   string   `json:"signal"`
	Error    string   `json:"error"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`

	DurationMS float64 `json:"duration_ms"`
}

// decodeRecords decodes JSON Lines, one record per line, by seq; a seq
// seen twice or a line that does not decode fails the test.
func decodeRecords(t *testing.T, b []byte) map[int]record {
	t.Helper()
	recs := map[int]record{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("a --json line does not decode: %v: %.200q", err, sc.Text())
		}
		if _, dup := recs[r.Seq]; dup {
			t.Errorf("record of job %d twice", r.Seq)
		}
		recs[r.Seq] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkJSONRecords runs n jobs under --json, each writing its number to
// stdout and to stderr, and checks that every record is there once, with
// its output whole and apart.
func checkJSONRecords(t *testing.T, ex string, n int, extra ...string) {
	var in strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "%d\n", i)
	}
	f, st := run(t, futOpts{args: args("map", "-q", "--executor", ex, "--json", extra,
		"sh", "-c", `echo "out-$1"; printf 'err-%s' "$1" >&2`, "_"), stdin: strings.NewReader(in.String())})
	if st != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", st, tail(f.errText()))
	}
	recs := decodeRecords(t, f.out())
	if len(recs) != n {
		t.Errorf("%d records, want %d", len(recs), n)
	}
	for i := 1; i <= n; i++ {
		r, ok := recs[i]
		s := strconv.Itoa(i)
		switch {
		case !ok:
			t.Errorf("no record for job %d", i)
		case r.State != "FINISHED" || r.ExitCode != 0 || r.Error != "" || !slices.Equal(r.Args, []string{s}):
			t.Errorf("record %d: %+v", i, r)
		case r.Stdout != "out-"+s+"\n" || r.Stderr != "err-"+s:
			t.Errorf("record %d: stdout %q, stderr %q", i, r.Stdout, r.Stderr)
		}
	}
}

// TestFaultJSONRecordsKeepEveryByte: 2,000 jobs under --json (20,000 in
// make test-faults): one record each, its stdout and stderr whole and
// apart.
func TestFaultJSONRecordsKeepEveryByte(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		checkJSONRecords(t, ex, 2000, "-j4")
	})
}

// --- Exit status -------------------------------------------------------

// TestFaultExitCodesAreReportedExactly: every exit code 0..255, 126 and
// 127 for a program that cannot run, 128+N for death by each common
// signal; and the runner's own status says a job failed.
func TestFaultExitCodesAreReportedExactly(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		t.Run("0..255", func(t *testing.T) {
			t.Parallel()
			var in strings.Builder
			for i := 0; i <= 255; i++ {
				fmt.Fprintf(&in, "%d\n", i)
			}
			f, st := run(t, futOpts{args: args("map", "--executor", ex, "-j4", "--json", "sh", "-c", "exit $1", "_"),
				stdin: strings.NewReader(in.String())})
			if st != 1 {
				t.Errorf("exit status %d, want 1", st)
			}
			recs := decodeRecords(t, f.out())
			for i := 0; i <= 255; i++ {
				if r := recs[i+1]; r.ExitCode != i || r.Signal != "" || !slices.Equal(r.Args, []string{strconv.Itoa(i)}) {
					t.Errorf("job exiting %d: record %+v", i, r)
				}
			}
			var codes []string
			for i := 0; i <= 255; i++ {
				codes = append(codes, fmt.Sprintf("%d×1", i))
			}
			if want := "futures: 1 succeeded, 255 failed, 0 cancelled, 0 timed out in "; !strings.Contains(f.errText(), want) ||
				!strings.Contains(f.errText(), "exit codes: "+strings.Join(codes, " ")+"\n") {
				t.Errorf("summary:\n%s", f.errText())
			}
		})
		t.Run("126 and 127", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, filepath.Join(dir, "noexec.sh"), "echo hi\n")
			write(t, filepath.Join(dir, "badinterp.sh"), "#!/no/such/interpreter\necho hi\n")
			if err := os.Chmod(filepath.Join(dir, "badinterp.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
				t.Fatal(err)
			}
			lines := []struct {
				line string
				code int
			}{
				{"no-such-command-xyz", 127},
				{"./no-such-file", 127},
				{"./noexec.sh", 126},
				{"./adir", 126},
				{"./badinterp.sh", 126},
				{"sh -c 'exit 126'", 126},
				{"X=1 no-such-command-xyz", 127},
			}
			var in strings.Builder
			for _, l := range lines {
				in.WriteString(l.line + "\n")
			}
			f, st := run(t, futOpts{args: args("submit", "--executor", ex, "--json", "-k"), stdin: strings.NewReader(in.String()), dir: dir})
			if st != 1 {
				t.Errorf("exit status %d, want 1", st)
			}
			recs := decodeRecords(t, f.out())
			for i, l := range lines {
				if r := recs[i+1]; r.ExitCode != l.code {
					t.Errorf("%q: exit code %d, want %d (record %+v)", l.line, r.ExitCode, l.code, r)
				}
			}
		})
		t.Run("signals", func(t *testing.T) {
			t.Parallel()
			sigs := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP,
				syscall.SIGABRT, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGKILL, syscall.SIGUSR1, syscall.SIGSEGV,
				syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGTERM, syscall.SIGXCPU}
			var in strings.Builder
			for _, s := range sigs {
				fmt.Fprintf(&in, "%d\n", int(s))
			}
			// ulimit -c 0: no core files.
			f, st := run(t, futOpts{args: args("map", "--executor", ex, "-j4", "--json", "sh", "-c", `ulimit -c 0; kill -s $(kill -l $1) $$`, "_"),
				stdin: strings.NewReader(in.String())})
			if st != 1 {
				t.Errorf("exit status %d, want 1", st)
			}
			recs := decodeRecords(t, f.out())
			for i, s := range sigs {
				name := "SIG" + strings.TrimPrefix(strings.ToUpper(unixSignalName(s)), "SIG")
				if r := recs[i+1]; r.ExitCode != 128+int(s) || r.Signal != name {
					t.Errorf("job killed by %v: exit code %d, signal %q; want %d, %q", s, r.ExitCode, r.Signal, 128+int(s), name)
				}
			}
		})
	})
}

// unixSignalName is the name the kill command gives s ("HUP").
func unixSignalName(s syscall.Signal) string {
	out, err := exec.Command("sh", "-c", "kill -l "+strconv.Itoa(int(s))).Output()
	if err != nil {
		return s.String()
	}
	return strings.TrimSpace(string(out))
}

// --- Concurrency -------------------------------------------------------

// TestFaultNeverMoreThanJJobsAtOnce: as the jobs themselves see it, no
// more than -j run at once, and no two running jobs share a worker slot.
func TestFaultNeverMoreThanJJobsAtOnce(t *testing.T) {
	script := `d=$FAULT_DIR
mkdir "$d/slot-$FUTURES_SLOT" || echo "slot $FUTURES_SLOT taken twice" >> "$d/errors"
touch "$d/running/$1"
ls "$d/running" | wc -l >> "$d/counts"
sleep 0.02
rm "$d/running/$1"
rmdir "$d/slot-$FUTURES_SLOT"`
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, j := range []int{1, 3, 7} {
			t.Run(fmt.Sprintf("-j%d", j), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				if err := os.Mkdir(filepath.Join(dir, "running"), 0o755); err != nil {
					t.Fatal(err)
				}
				f, st := run(t, futOpts{args: args("map", "-q", "--executor", ex, "-j", strconv.Itoa(j), "sh", "-c", script, "_", ":::", items(20*j)), dir: dir})
				if st != 0 {
					t.Fatalf("exit status %d\nstderr:\n%s", st, f.errText())
				}
				if b, err := os.ReadFile(filepath.Join(dir, "errors")); err == nil {
					t.Errorf("%s", b)
				}
				b, err := os.ReadFile(filepath.Join(dir, "counts"))
				if err != nil {
					t.Fatal(err)
				}
				most := 0
				for _, l := range strings.Fields(string(b)) {
					n, _ := strconv.Atoi(l)
					most = max(most, n)
				}
				if most > j || most == 0 {
					t.Errorf("up to %d jobs ran at once with -j%d", most, j)
				}
				names, _ := filepath.Glob(filepath.Join(dir, "slot-*"))
				if len(names) != 0 {
					t.Errorf("slots still taken: %v", names)
				}
			})
		}
	})
}

// --- Resources ---------------------------------------------------------

// spoolFaults are the ways the spool directory can fail: each returns the
// TMPDIR to use and a wrapper for the command line, or skips.
var spoolFaults = []struct {
	name  string
	setup func(t *testing.T) (tmpdir string, wrap []string)
}{
	{"missing", func(t *testing.T) (string, []string) {
		return filepath.Join(t.TempDir(), "no", "such", "dir"), nil
	}},
	{"full tmpfs", func(t *testing.T) (string, []string) {
		dir := filepath.Join(t.TempDir(), "tiny")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mountTinyTmpfs(t, dir)
		return dir, nil
	}},
	{"file size limit", func(t *testing.T) (string, []string) {
		// RLIMIT_FSIZE of 128 KiB (ulimit -f counts 512-byte blocks in
		// sh): a spool file cannot grow past it, as on a full disk.
		return t.TempDir(), []string{"sh", "-c", `ulimit -f 256 && exec "$@"`, "sh"}
	}},
}

// TestFaultSpoolDirectoryMissingOrFull: when job output cannot be spooled,
// the run says so loudly (a message naming the directory, exit status 1);
// output small enough for memory still arrives whole, exit 0.
func TestFaultSpoolDirectoryMissingOrFull(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, sf := range spoolFaults {
			for _, mode := range [][]string{{"--output", "group"}, {"--output", "line"}, {"--json"}} {
				t.Run(sf.name+"/"+strings.Join(mode, " "), func(t *testing.T) {
					t.Parallel()
					tmpdir, wrap := sf.setup(t)
					check := func(size int) (string, string, int) {
						f, st := run(t, futOpts{args: args("map", "--executor", ex, "-j2", mode, "sh", "-c",
							fmt.Sprintf(`head -c %d /dev/zero | tr '\0' "$1"; echo`, size), "_", ":::", "a", "b", "c"),
							env: []string{"TMPDIR=" + tmpdir}, wrap: wrap, pipe: true})
						return f.outText(), f.errText(), st
					}
					// Small: memory is enough, the output is whole.
					out, errText, st := check(1000)
					if st != 0 || len(out) != 3*1001 && mode[0] != "--json" {
						t.Errorf("1000-byte outputs: exit %d, %d bytes of stdout\nstderr:\n%s", st, len(out), errText)
					}
					// Large: whole, or a loud failure.
					const size = 400 << 10
					out, errText, st = check(size)
					if mode[0] == "--json" {
						recs := decodeRecords(t, []byte(out))
						lost := 0
						for _, r := range recs {
							if len(r.Stdout) != size+1 {
								lost++
								if !regexp.MustCompile(`spool|temporary file`).MatchString(r.Error) {
									t.Errorf("record %d has %d of %d bytes and error %q", r.Seq, len(r.Stdout), size+1, r.Error)
								}
							}
						}
						if lost > 0 && st != 1 {
							t.Errorf("output lost, exit status %d", st)
						}
						return
					}
					if st == 0 && len(out) == 3*(size+1) {
						return // whole
					}
					if st != 1 {
						t.Errorf("exit status %d with %d of %d bytes", st, len(out), 3*(size+1))
					}
					want := regexp.MustCompile(`futures: job \d: output lost: .*(` + regexp.QuoteMeta(tmpdir) + `|` + regexp.QuoteMeta(os.TempDir()) + `)`)
					if !want.MatchString(errText) {
						t.Errorf("output lost (%d of %d bytes) without a message naming the directory:\n%s", len(out), 3*(size+1), errText)
					}
				})
			}
		}
	})
}

// TestFaultStdoutCannotBeWritten: stdout is a file that cannot grow (a
// full disk, a file size limit): the run fails loudly, exit status 1 and
// a message; unlike a closed pipe, which is a quiet stop.
func TestFaultStdoutCannotBeWritten(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, sf := range spoolFaults[1:] {
			t.Run(sf.name, func(t *testing.T) {
				t.Parallel()
				dir, wrap := sf.setup(t)
				out := create(t, filepath.Join(dir, "out"))
				defer out.Close()
				f, st := run(t, futOpts{args: args("map", "--executor", ex, "-j2", "sh", "-c", `head -c 50000 /dev/zero`, "_", ":::", items(10)),
					wrap: wrap, stdout: out})
				if st != 1 {
					t.Errorf("exit status %d, want 1", st)
				}
				if !regexp.MustCompile(`futures: writing stdout: .*(file too large|no space left on device)`).MatchString(f.errText()) {
					t.Errorf("no message saying stdout could not be written:\n%s", f.errText())
				}
				f.noLeftovers()
			})
		}
	})
}

// checkNoFDLeak runs n jobs of every kind (direct, shell, not found,
// output spooled to a file, a background child, a job timeout) and samples
// the runner's open file descriptors meanwhile: their number must stay
// bounded, not grow with the jobs.
func checkNoFDLeak(t *testing.T, ex string, n int) {
	var in strings.Builder
	for i := range n {
		switch {
		case i%50 == 1:
			in.WriteString("sh -c 'head -c 100000 /dev/zero'\n") // spooled to a file
		case i%50 == 2:
			in.WriteString("sh -c 'sleep 300 & echo bg'\n") // a background child
		case i%7 == 3:
			in.WriteString("no-such-command-xyz\n")
		case i%7 == 4:
			in.WriteString("sh -c 'exit 3'\n")
		case i%7 == 5:
			in.WriteString("echo out\n")
		default:
			in.WriteString("true\n")
		}
	}
	in.WriteString("sleep 300\n") // times out: the last job, so the run lasts
	const j = 4
	f := start(t, futOpts{args: args("submit", "-q", "--executor", ex, "-j", strconv.Itoa(j), "--job-timeout", "3s", "--grace", "100ms"),
		stdin: strings.NewReader(in.String())})
	fdDir := fmt.Sprintf("/proc/%d/fd", f.cmd.Process.Pid)
	most, samples := 0, 0
	for {
		select {
		case <-f.exited:
		default:
			if names, err := os.ReadDir(fdDir); err == nil {
				most = max(most, len(names))
				samples++
			}
			time.Sleep(20 * time.Millisecond) // a sampling period
			continue
		}
		break
	}
	st := f.wait()
	if st != 1 {
		t.Errorf("exit status %d, want 1\nstderr:\n%s", st, tail(f.errText()))
	}
	if limit := 40 + 8*j; most > limit {
		t.Errorf("the runner had up to %d open file descriptors running %d jobs, -j%d (limit %d): a leak", most, n, j, limit)
	}
	t.Logf("%d jobs: at most %d descriptors open in %d samples", n, most, samples)
	f.noLeftovers()
}

// TestFaultNoFileDescriptorLeak: 3,000 jobs of every kind (100,000 in
// make test-faults).
func TestFaultNoFileDescriptorLeak(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		checkNoFDLeak(t, ex, 3000)
	})
}

// --- Bad input ---------------------------------------------------------

// TestFaultBadInput: malformed input is a clear message naming the line, or
// handled; never a crash, a hang, or a silent loss.
func TestFaultBadInput(t *testing.T) {
	mb := strings.Repeat("x", 1<<20)
	tests := []struct {
		name   string
		args   []string
		input  string
		status int
		stdout string // exact, unless "" and stdoutRE is set
		stderr string // regexp
	}{
		{"an unterminated quote fails its line", []string{"submit", "-k"}, "echo ok1\necho 'abc\necho ok2\n", 1, "ok1\nok2\n", `stdin:2: .*unterminated`},
		{"a lone backslash fails its line", []string{"submit", "-k"}, "echo ok1\n\\\necho ok2\n", 1, "ok1\nok2\n", `stdin:2: .*backslash`},
		{"a line ending in a backslash fails", []string{"submit", "-k"}, "echo a\\\necho b\n", 1, "b\n", `stdin:1: .*backslash`},
		{"a NUL byte in a command line fails it", []string{"submit", "-k"}, "echo a\x00b\necho ok\n", 1, "ok\n", `stdin:1: .*NUL`},
		{"a NUL byte in a map item fails it", []string{"map", "echo"}, "a\x00b\nok\n", 1, "ok\n", `stdin:1: .*NUL`},
		{"invalid UTF-8 passes through", []string{"submit"}, "echo \xff\xfe\x80\n", 0, "\xff\xfe\x80\n", `^futures: 1 succeeded`},
		{"invalid UTF-8 in a map item passes through", []string{"map", "printf", "%s\n"}, "\xc3\x28\n", 0, "\xc3\x28\n", `^futures: 1 succeeded`},
		{"a 1 MB command line is too long to exec", []string{"submit", "-k"}, "echo " + mb + "\necho ok\n", 1, "ok\n", `argument list too long`},
		{"a 1 MB map item is too long to exec", []string{"map", "echo"}, mb + "\nok\n", 1, "ok\n", `argument list too long`},
		{"a 1 MB item read by the job from a file", []string{"map", "sh", "-c", `printf %s "$1" | wc -c`, "_"}, strings.Repeat("y", 100000) + "\n", 0, "100000\n", `1 succeeded`},
		{"unknown {…} fields stay literal", []string{"map", "echo {foo} {1..3} {=x=} {-1} {}"}, "a\n", 0, "{foo} {1..3} {=x=} {-1} a\n", `1 succeeded`},
		{"{N} past the inputs is a usage error", []string{"map", "-a", "two", "-a", "two", "echo {7}"}, "", 2, "", `\{7\}, but there are only 2 input sources`},
		{"{2} of one input is a usage error", []string{"map", "-a", "two", "rm -rf {2}/*"}, "", 2, "", `\{2\}, but there is only 1 input source`},
		{"an unterminated quote in a template is a usage error", []string{"map", "echo '{}"}, "a\n", 2, "", `unterminated`},
		{"empty input runs nothing", []string{"submit"}, "", 0, "", `^$`},
		{"blank lines run nothing", []string{"map", "echo"}, "\n\n\n", 0, "", `^$`},
		{"CRLF input keeps the CR", []string{"map", "printf", "[%s]"}, "a\r\n", 0, "[a\r]", `1 succeeded`},
		{"-0 input with newlines in items", []string{"map", "-0", "-k", "printf", "[%s]"}, "a\nb\x00c\x00", 0, "[a\nb][c]", `2 succeeded`},
	}
	forEachExecutor(t, func(t *testing.T, ex string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				write(t, filepath.Join(dir, "two"), "a\nb\n")
				f, st := run(t, futOpts{args: args(tt.args[0], "--executor", ex, tt.args[1:]), stdin: strings.NewReader(tt.input), dir: dir})
				errText := f.errText()
				if st != tt.status {
					t.Errorf("exit status %d, want %d\nstderr:\n%s", st, tt.status, tail(errText))
				}
				if got := f.outText(); got != tt.stdout {
					t.Errorf("stdout %.200q, want %.200q", got, tt.stdout)
				}
				if !regexp.MustCompile(tt.stderr).MatchString(errText) {
					t.Errorf("stderr does not match %q:\n%s", tt.stderr, tail(errText))
				}
				if strings.Contains(errText, "panic") || strings.Contains(errText, "goroutine ") {
					t.Errorf("a crash:\n%s", tail(errText))
				}
			})
		}
	})
}
