package main

// The executor service's fault tests (issue 16, "Shown by"): the service
// SIGKILLed with jobs running and pending, SIGKILLed between a submit's
// commit and its reply, garbage on its socket while jobs run, and many
// clients submitting at once. Each drives the real futures binary, as
// faults_test.go does; every process of a test (the service, its guard,
// its jobs and theirs) carries the test's FUTURES_FAULT_MARK, so what is
// left is found by scanning /proc.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// svcTest is a test's executor service: its own runtime and state
// directories (short: a socket path is at most 107 bytes), a working
// directory for its commands, and one mark for every process.
type svcTest struct {
	t     *testing.T
	dir   string // the commands' working directory and FAULT_DIR
	mark  string
	env   []string // XDG_RUNTIME_DIR, XDG_STATE_HOME and the mark
	paths service.Paths
}

// newSvcTest makes the directories of service "default"; the cleanup
// kills a service the test left running.
func newSvcTest(t *testing.T) *svcTest {
	t.Helper()
	root, err := os.MkdirTemp("", "fsvc")
	if err != nil {
		t.Fatal(err)
	}
	run, state := filepath.Join(root, "run"), filepath.Join(root, "state")
	s := &svcTest{t: t, dir: filepath.Join(root, "work"), mark: newMark(t)}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.env = []string{"XDG_RUNTIME_DIR=" + run, "XDG_STATE_HOME=" + state, markEnv + "=" + s.mark}
	s.paths = service.Paths{
		Name:       "default",
		RuntimeDir: filepath.Join(run, "futures", "default"),
		StateDir:   filepath.Join(state, "futures", "default"),
		Socket:     filepath.Join(run, "futures", "default", "service.sock"),
	}
	t.Cleanup(func() {
		killScriptServices(run, state)
		for _, p := range markedProcesses(s.mark) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		os.RemoveAll(root)
	})
	return s
}

// start starts `futures args...` with stdin, and env added to the
// test's.
func (s *svcTest) start(stdin string, env []string, args ...string) *fut {
	s.t.Helper()
	return start(s.t, futOpts{args: args, stdin: strings.NewReader(stdin), dir: s.dir, env: append(slices.Clone(s.env), env...)})
}

// run runs `futures args...` and returns its stdout, stderr and status.
func (s *svcTest) run(stdin string, args ...string) (stdout, stderr string, status int) {
	s.t.Helper()
	f := s.start(stdin, nil, args...)
	st := f.wait()
	return f.outText(), f.errText(), st
}

// ok runs `futures args...`, fails the test unless it exits 0, and
// returns its stdout.
func (s *svcTest) ok(stdin string, args ...string) string {
	s.t.Helper()
	out, errOut, st := s.run(stdin, args...)
	if st != 0 {
		s.t.Fatalf("futures %q: exit status %d\nstdout:\n%s\nstderr:\n%s", args, st, tail(out), tail(errOut))
	}
	return out
}

// statusRow is a line of `futures status --json`.
type statusRow struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Broken   bool   `json:"broken"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	Command  string `json:"command"`
}

// status returns `futures status --json`, by id.
func (s *svcTest) status() map[string]statusRow {
	s.t.Helper()
	rows := map[string]statusRow{}
	sc := bufio.NewScanner(strings.NewReader(s.ok("", "status", "--json")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r statusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			s.t.Fatalf("status --json: %q: %v", sc.Text(), err)
		}
		rows[r.ID] = r
	}
	return rows
}

// waitUntil polls cond until it holds, failing the test after patience
// (a hang detector, not the thing under test).
func (s *svcTest) waitUntil(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %v for %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// files counts the files of the working directory whose names match glob.
func (s *svcTest) files(glob string) int {
	names, _ := filepath.Glob(filepath.Join(s.dir, glob))
	return len(names)
}

// noLeftovers waits until no process of the test is left (a killed one
// takes a moment to go), failing the test after patience/3.
func (s *svcTest) noLeftovers(what string) {
	s.t.Helper()
	deadline := time.Now().Add(patience / 3)
	for {
		ps := markedProcesses(s.mark)
		if len(ps) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, p := range ps {
				fmt.Fprintf(&b, "\n  %d %s", p.pid, p.cmdline)
			}
			s.t.Fatalf("processes left after %s:%s", what, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkBroken checks that each of ids is FINISHED and broken by the dead
// service.
func checkBroken(t *testing.T, rows map[string]statusRow, ids ...string) {
	t.Helper()
	for _, id := range ids {
		r, ok := rows[id]
		switch {
		case !ok:
			t.Errorf("%s: not in status", id)
		case r.State != "FINISHED" || !r.Broken || r.ExitCode != -1 || r.Error != service.BrokenReason:
			t.Errorf("%s: %+v; want FINISHED, broken by the dead service", id, r)
		}
	}
}

// The service SIGKILLed with jobs running (each with a child in its
// process group, and one that left it) and pending: no job process is
// left, every id is final afterwards (the running and pending ones
// broken, the finished one untouched), and the next submit --detach
// starts a new service and works.
func TestFaultServiceKilledWithJobsRunningAndPending(t *testing.T) {
	s := newSvcTest(t)
	s.ok("", "start", "-j", "2")
	if out := s.ok("", "submit", "--detach", "--", "sh", "-c", "echo one"); out != "%1\n" {
		t.Fatalf("first submit printed %q, want %%1", out)
	}
	if out := s.ok("", "result", "%1"); out != "one\n" {
		t.Fatalf("result %%1 printed %q", out)
	}
	// %2 and %3 run, each with a child in its process group and one that
	// left it (set -m: a process group of its own, in the session); %4 and
	// %5 wait.
	job := `sleep 300 & echo $! > child$FUTURES_SLOT; (set -m; sleep 300 & echo $! > away$FUTURES_SLOT); echo > up$FUTURES_SLOT; sleep 300`
	lines := strings.Repeat(job+"\n", 2) + "touch ran-pending\ntouch ran-pending\n"
	if out := s.ok(lines, "submit", "--detach"); out != "%2\n%3\n%4\n%5\n" {
		t.Fatalf("submit printed %q, want %%2 to %%5", out)
	}
	s.waitUntil("two jobs running", func() bool { return s.files("up*") == 2 })
	var children []int
	for _, name := range []string{"child1", "child2", "away1", "away2"} {
		b, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %q", name, b)
		}
		children = append(children, pid)
	}

	// Clients waiting on the service when it dies (most likely in their
	// long poll already; either way they must end, with the truth).
	waiter := s.start("", nil, "wait", "%2", "%3")
	resulter := s.start("", nil, "result", "%4")
	s.waitUntil("the clients waiting", func() bool { return len(clientsOf(s.mark, "wait", "result")) == 2 })

	if err := killService(s.paths); err != nil {
		t.Fatalf("killing the service: %v", err)
	}
	if st := waiter.wait(); st != 1 || !strings.Contains(waiter.outText(), "done\t%2\tBROKEN") || !strings.Contains(waiter.outText(), "done\t%3\tBROKEN") {
		t.Errorf("wait %%2 %%3 across the kill: exit %d, stdout %q, stderr %q; want 1 and both done", st, waiter.outText(), waiter.errText())
	}
	if st := resulter.wait(); st != 3 || !strings.Contains(resulter.errText(), "broken: the service died") {
		t.Errorf("result %%4 across the kill: exit %d, stderr %q; want 3, broken", st, resulter.errText())
	}
	s.noLeftovers("the service was killed")
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("a job's child, pid %d, is still alive", pid)
		}
	}

	rows := s.status()
	if r := rows["%1"]; r.State != "FINISHED" || r.Broken || r.ExitCode != 0 || r.Error != "" {
		t.Errorf("%%1, finished before the kill: %+v; want it untouched", r)
	}
	checkBroken(t, rows, "%2", "%3", "%4", "%5")
	if len(rows) != 5 {
		t.Errorf("status lists %d futures, want 5: %v", len(rows), rows)
	}
	if n := s.files("ran-pending"); n != 0 {
		t.Error("a pending future ran after the kill")
	}

	// The next submit starts a new service, which goes on with %6.
	f := s.start("", nil, "submit", "--detach", "--", "sh", "-c", "echo again")
	if st := f.wait(); st != 0 || f.outText() != "%6\n" {
		t.Fatalf("submit after the kill: exit %d, stdout %q, stderr %q; want %%6", st, f.outText(), f.errText())
	}
	if !strings.Contains(f.errText(), "removed its stale socket") {
		t.Errorf("submit after the kill did not say it removed the stale socket: %q", f.errText())
	}
	if out := s.ok("", "result", "%6"); out != "again\n" {
		t.Errorf("result %%6 printed %q", out)
	}
	s.ok("", "shutdown")
	s.noLeftovers("shutdown")
}

// clientsOf returns the processes of mark that run futures with one of
// cmds as their first argument.
func clientsOf(mark string, cmds ...string) []process {
	var ps []process
	for _, p := range markedProcesses(mark) {
		f := strings.Fields(p.cmdline)
		if len(f) > 1 && slices.Contains(cmds, f[1]) {
			ps = append(ps, p)
		}
	}
	return ps
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// The service SIGKILLed after it committed a submit's futures and before
// it replied (the test hook FUTURES_TEST_CRASH=after-commit): the client
// does not hang, it fails with a message that says the service died and
// which futures it had committed, and those are final (broken) at once.
func TestFaultServiceKilledBetweenCommitAndReply(t *testing.T) {
	s := newSvcTest(t)
	if f := s.start("", []string{"FUTURES_TEST_CRASH=after-commit"}, "start"); f.wait() != 0 {
		t.Fatalf("start: %s", f.errText())
	}
	out, errOut, st := s.run("touch ran1\ntouch ran2\n", "submit", "--detach")
	if st != 1 {
		t.Errorf("submit: exit status %d, want 1", st)
	}
	if out != "" {
		t.Errorf("submit printed ids %q of a submit the service never answered", out)
	}
	for _, want := range []string{"service default died", "%1 %2", "broken", "futures status"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("submit's stderr %q does not say %q", errOut, want)
		}
	}
	s.noLeftovers("the service killed itself")
	// Final already, broken by the client: read the store itself, as
	// status would break them.
	db, err := store.Open(s.paths.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fs, err := db.List(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("the store holds %d futures, want the 2 committed", len(fs))
	}
	for _, f := range fs {
		if f.State != future.Finished || !f.Broken || f.Error != service.BrokenReason {
			t.Errorf("%%%d: %v, broken %v, error %q; want FINISHED, broken by the dead service", f.ID, f.State, f.Broken, f.Error)
		}
	}
	if n := s.files("ran*"); n != 0 {
		t.Errorf("%d of the futures ran after the service died", n)
	}
}

// Garbage on the socket while jobs run: every malformed connection is
// closed alone, and the service keeps serving; the jobs finish, and a
// client that connected and sent nothing does not hold up shutdown.
func TestFaultGarbageOnTheSocketWhileJobsRun(t *testing.T) {
	s := newSvcTest(t)
	s.ok("", "start", "-j", "2")
	job := "sh -c 'echo > up$FUTURES_SLOT; until [ -e gate ]; do sleep 0.02; done; echo done $FUTURES_ID'\n"
	if out := s.ok(strings.Repeat(job, 4), "submit", "--detach"); out != "%1\n%2\n%3\n%4\n" {
		t.Fatalf("submit printed %q", out)
	}
	s.waitUntil("two jobs running", func() bool { return s.files("up*") == 2 })

	// A client that connects and sends nothing, kept open to the end.
	idle, err := net.Dial("unix", s.paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	big := strings.Repeat("x", 128<<10)
	for _, g := range []struct{ name, what string }{
		{"bytes", "\x00\xff\x16\x03\x01 garbage\r\n\r\n"},
		{"a request line only", "POST /v1/submit HTTP/1.1\r\n"},
		{"a truncated body", "POST /v1/submit HTTP/1.1\r\nHost: f\r\nContent-Length: 100\r\n\r\n{\"futures\":["},
		{"JSON that is not", "POST /v1/submit HTTP/1.1\r\nHost: f\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{not json"},
		{"a submit of garbage lines", "POST /v1/submit HTTP/1.1\r\nHost: f\r\nContent-Length: 27\r\nConnection: close\r\n\r\n{\"futures\":[{\"line\":\"\"}]}\n\n"},
		{"an oversized header", "GET /v1/service HTTP/1.1\r\nHost: f\r\nX: " + big + "\r\n\r\n"},
		{"an oversized body", "POST /v1/submit HTTP/1.1\r\nHost: f\r\nContent-Length: 999999999\r\n\r\n" + big},
		{"a cancel of everything", "POST /v1/cancel HTTP/1.1\r\nHost: f\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"ids\":\"all\""},
	} {
		c, err := net.Dial("unix", s.paths.Socket)
		if err != nil {
			t.Fatalf("%s: dial: %v", g.name, err)
		}
		c.SetDeadline(time.Now().Add(patience))
		_, _ = io.WriteString(c, g.what)
		c.(*net.UnixConn).CloseWrite()
		_, _ = io.ReadAll(c) // until the service closes it
		c.Close()
		if _, errOut, st := s.run("", "running", "%1"); st != 0 {
			t.Fatalf("after %s: running %%1: exit %d: %s", g.name, st, errOut)
		}
	}

	if err := os.WriteFile(filepath.Join(s.dir, "gate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, st := s.run("", "wait", "%1", "%2", "%3", "%4")
	if st != 0 {
		t.Fatalf("wait: exit %d\n%s%s", st, out, errOut)
	}
	for i := 1; i <= 4; i++ {
		id := "%" + strconv.Itoa(i)
		if out := s.ok("", "result", id); out != "done "+id+"\n" {
			t.Errorf("result %s printed %q", id, out)
		}
	}
	rows := s.status()
	if len(rows) != 4 {
		t.Errorf("status lists %d futures, want the 4 submitted: %v", len(rows), rows)
	}
	// The client that sent nothing does not hold up shutdown (net/http
	// alone waits 5 s for it): the service closes it and says so.
	s.ok("", "shutdown")
	log, err := os.ReadFile(s.paths.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "closed 1 connection(s) that had sent no request") {
		t.Errorf("the service's log does not say it closed the idle client's connection at shutdown:\n%s", log)
	}
	idle.SetDeadline(time.Now().Add(patience))
	if n, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the idle client's connection after shutdown: read %d bytes, %v; want EOF", n, err)
	}
	s.noLeftovers("shutdown")
}

// TestFaultManyClientsSubmitAtOnce: 10 clients submitting 100 futures
// each at once (the scale of the issue, 50 × 200, is in
// faults_slow_test.go).
func TestFaultManyClientsSubmitAtOnce(t *testing.T) {
	checkManyClients(t, 10, 100, 10*time.Minute)
}

// checkManyClients starts a service with -j 8, then clients `futures
// submit --detach` processes together, each with each lines on stdin,
// and checks that clients×each unique ids were printed, %1 to %N (none
// lost), and that each job ran exactly once (each appends its id to a
// file, O_APPEND) and FINISHED with exit 0. hang bounds the wait for the
// jobs.
func checkManyClients(t *testing.T, clients, each int, hang time.Duration) {
	s := newSvcTest(t)
	s.ok("", "start", "-j", "8")
	t0 := time.Now()
	lines := strings.Repeat("echo $FUTURES_ID >> ran\n", each)
	fs := make([]*fut, clients)
	for i := range fs {
		fs[i] = s.start(lines, nil, "submit", "--detach")
	}
	n := clients * each
	printed := map[string]int{}
	var ids []string
	for i, f := range fs {
		if st := f.wait(); st != 0 {
			t.Fatalf("client %d: exit status %d\nstderr:\n%s", i, st, tail(f.errText()))
		}
		got := strings.Fields(f.outText())
		if len(got) != each {
			t.Errorf("client %d printed %d ids, want %d", i, len(got), each)
		}
		for _, id := range got {
			printed[id]++
			ids = append(ids, id)
		}
	}
	for i := 1; i <= n; i++ {
		if id := "%" + strconv.Itoa(i); printed[id] != 1 {
			t.Errorf("%s printed %d times, want once", id, printed[id])
		}
	}
	if len(printed) != n {
		t.Fatalf("%d unique ids printed, want %d", len(printed), n)
	}

	t1 := time.Now()
	w := s.start("", nil, append([]string{"wait", "--return-when", "ALL_COMPLETED"}, ids...)...)
	select {
	case <-w.exited:
	case <-time.After(hang):
		t.Fatalf("futures wait on %d futures did not return within %v", n, hang)
	}
	if st := w.wait(); st != 0 {
		t.Fatalf("wait: exit status %d\nstderr:\n%s", st, tail(w.errText()))
	}
	t.Logf("%d clients submitted %d futures in %v; they ran in %v", clients, n, t1.Sub(t0), time.Since(t1))
	b, err := os.ReadFile(filepath.Join(s.dir, "ran"))
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	lineCount := 0
	for _, id := range strings.Fields(string(b)) {
		ran[id]++
		lineCount++
	}
	if lineCount != n || len(ran) != n {
		t.Errorf("the jobs ran %d times, %d of them distinct; want %d, each once", lineCount, len(ran), n)
	}
	for id, k := range ran {
		if k != 1 || printed[id] != 1 {
			t.Errorf("%s ran %d times, printed %d times; want once each", id, k, printed[id])
		}
	}
	finished := 0
	for id, r := range s.status() {
		if r.State == "FINISHED" && r.ExitCode == 0 && !r.Broken {
			finished++
		} else {
			t.Errorf("%s: %+v; want FINISHED with exit status 0", id, r)
		}
	}
	if finished != n {
		t.Errorf("%d futures FINISHED with exit status 0, want %d", finished, n)
	}
	s.ok("", "shutdown")
	s.noLeftovers("shutdown")
}

// A service that dies as a client reaches it (its socket accepted the
// client's probe, then the connection broke on the first request, and no
// service process is left): submit --detach starts a new one and goes on.
// A fake service plays the dying one: it answers nothing, and leaves its
// socket behind as a killed service does.
func TestFaultServiceDiesAsAClientReachesIt(t *testing.T) {
	s := newSvcTest(t)
	if err := s.paths.Ensure(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", s.paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	died := make(chan struct{})
	go func() {
		defer close(died)
		defer ln.Close()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(patience))
			n, _ := c.Read(make([]byte, 1))
			c.Close()
			if n > 0 { // a request, not a probe that connects and goes
				return
			}
		}
	}()
	f := s.start("", nil, "submit", "--detach", "--", "sh", "-c", "echo hi")
	st := f.wait()
	<-died
	if st != 0 || f.outText() != "%1\n" {
		t.Fatalf("submit to a service that died as it reached it: exit %d, stdout %q, stderr %q; want %%1 from a new service", st, f.outText(), f.errText())
	}
	// Which of the two it says depends on where the request broke: at
	// the first request of the fast path (one request, no probe), or
	// after start's probe.
	if !strings.Contains(f.errText(), "service default died as this command reached it") &&
		!strings.Contains(f.errText(), "service default was not running (it died or was killed)") {
		t.Errorf("submit did not say the service it reached died: %q", f.errText())
	}
	if out := s.ok("", "result", "%1"); out != "hi\n" {
		t.Errorf("result %%1 printed %q", out)
	}
	s.ok("", "shutdown")
	s.noLeftovers("shutdown")
}

// A closed stdout stops `submit --detach` quietly, with exit status 141, as
// it stops a run (README, "Exit status"), not with "broken pipe" and 1:
// for one command after --, and for lines on stdin.
func TestFaultClosedStdoutStopsADetachedSubmitQuietly(t *testing.T) {
	s := newSvcTest(t)
	s.ok("", "start")
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"argv", "", []string{"submit", "--detach", "--", "true"}},
		{"lines", "true\ntrue\n", []string{"submit", "--detach"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			pr.Close()
			f := start(t, futOpts{args: tc.args, stdin: strings.NewReader(tc.stdin), dir: s.dir, env: s.env, stdout: pw})
			pw.Close()
			if st := f.wait(); st != 141 {
				t.Errorf("exit status %d, want 141", st)
			}
			if e := f.errText(); e != "" {
				t.Errorf("stderr not quiet:\n%s", e)
			}
		})
	}
}
