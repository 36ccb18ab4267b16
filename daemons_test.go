package main

// The real daemons the tests of remote workers talk to: an OpenSSH server
// and a single-node Slurm cluster, each started by a script of
// testdata/daemons (see its README) at most once per test binary, in a
// temporary directory, and stopped when the binary ends (TestMain).
//
// Go tests call needSSHD or needSlurm. Testscript scripts run the commands
// need-sshd and need-slurm (TestScripts registers them), which set:
//
//	need-sshd:  SSH        the --ssh command line, "ssh -F DIR/ssh_config"
//	            SSH_HOSTS  the host aliases, "h1 h2" (127.0.0.1, 127.0.0.2)
//	            SSHD_DIR   DIR; the remote cache of host H is DIR/H/cache
//	need-slurm: SLURM_CONF how srun, salloc and sinfo find the cluster
//	            SLURM_CPUS the CPUs of its node
//
// A daemon that cannot start (package not installed, not root) skips the
// test or script, with a message saying what to install; with CI=true in
// the environment it fails it instead, printing the script's output.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// SSHD is a running sshd of testdata/daemons/sshd.
type SSHD struct {
	// SSH is the --ssh command line, e.g. "ssh -F /tmp/x/ssh_config";
	// split on spaces (it holds no quotes) to run it.
	SSH string
	// Hosts are the host aliases of SSH's configuration: "h1" and "h2",
	// both this machine (127.0.0.1 and 127.0.0.2).
	Hosts []string
	// Dir is the directory of the daemon's keys and configuration.
	Dir string
	// CacheDir is XDG_CACHE_HOME in the sessions of host, a directory of
	// its own per host. It does not exist until someone makes it.
	CacheDir func(host string) string
}

// Slurm is a running single-node cluster of testdata/daemons/slurm.
type Slurm struct {
	// Env is what clients (srun, salloc, sinfo) need in their environment
	// besides os.Environ(): SLURM_CONF=….
	Env []string
	// Dir is the directory of the cluster's configuration, state and logs.
	Dir string
	// CPUs is the number of CPUs of the node, each allocated on its own.
	CPUs int
}

// daemon is one script of testdata/daemons, started at most once.
type daemon struct {
	name    string // the script's name: "sshd", "slurm"
	install string // what to do when it cannot start, for the skip message

	once sync.Once
	mu   sync.Mutex // guards dir, which stop clears
	dir  string     // the running daemon's directory; "" if not started
	err  error      // why start failed
	out  []byte     // the output of a failed start
}

// daemons are the scripts of testdata/daemons.
var (
	sshdDaemon = &daemon{
		name:    "sshd",
		install: "install openssh-server (apt-get install openssh-server)",
	}
	slurmDaemon = &daemon{
		name:    "slurm",
		install: "install munge, slurmctld, slurmd and slurm-client (apt-get install munge slurmctld slurmd slurm-client) and run as root",
	}
)

// daemonTimeout bounds a script's start or stop; the scripts bound their
// own waits to 10 s (sshd) and 30 s (slurm) per attempt.
const daemonTimeout = 3 * time.Minute

// script runs the daemon's script with action and dir, and returns its
// combined output.
func (d *daemon) script(action, dir string) ([]byte, error) {
	path, err := filepath.Abs(filepath.Join("testdata", "daemons", d.name))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), daemonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, action, dir)
	// The watcher the script leaves stops the daemon should this binary
	// die without stopping it.
	cmd.Env = append(os.Environ(), "FUTURES_DAEMON_OWNER="+strconv.Itoa(os.Getpid()))
	// The daemons do not keep the output open; a stray one must not hang
	// the test binary either.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("testdata/daemons/%s %s: %w", d.name, action, err)
	}
	return out, err
}

// start starts the daemon on the first call, and returns the directory of
// the running daemon, or why it is not running.
func (d *daemon) start() (string, error) {
	d.once.Do(func() {
		dir, err := os.MkdirTemp("", "futures-"+d.name+"-")
		if err != nil {
			d.err = err
			return
		}
		if out, err := d.script("start", dir); err != nil {
			d.err, d.out = err, out
			_ = os.RemoveAll(dir)
			return
		}
		d.mu.Lock()
		d.dir = dir
		d.mu.Unlock()
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil && d.dir == "" {
		return "", errors.New("already stopped")
	}
	return d.dir, d.err
}

// unavailable says why the daemon did not start, and whether that fails
// the test (CI=true) rather than skipping it.
func (d *daemon) unavailable() (msg string, fail bool) {
	why := strings.TrimSpace(string(d.out))
	if os.Getenv("CI") == "true" {
		return fmt.Sprintf("%s did not start (CI=true requires it): %v\n%s", d.name, d.err, why), true
	}
	if first, _, _ := strings.Cut(why, "\n"); first != "" {
		why = first
	} else {
		why = fmt.Sprint(d.err)
	}
	return fmt.Sprintf("%s not available: %s; %s, or run with CI=true to require it", d.name, why, d.install), false
}

// stop stops the daemon if it runs and removes its directory.
func (d *daemon) stop() error {
	d.mu.Lock()
	dir := d.dir
	d.dir = ""
	d.mu.Unlock()
	if dir == "" {
		return nil
	}
	out, err := d.script("stop", dir)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return os.RemoveAll(dir)
}

// stopDaemons stops the daemons that tests started; TestMain calls it
// after the tests.
func stopDaemons() {
	for _, d := range []*daemon{sshdDaemon, slurmDaemon} {
		if err := d.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// need starts d (once) or ends the test: skipped, or failed under CI=true.
func (d *daemon) need(t testing.TB) string {
	t.Helper()
	dir, err := d.start()
	if err != nil {
		msg, fail := d.unavailable()
		if fail {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// needSSHD returns the sshd of testdata/daemons/sshd, started on the first
// call. If it cannot start, it skips the test, or fails it under CI=true.
func needSSHD(t testing.TB) *SSHD {
	t.Helper()
	return newSSHD(sshdDaemon.need(t))
}

// newSSHD describes the sshd running in dir.
func newSSHD(dir string) *SSHD {
	return &SSHD{
		SSH:   "ssh -F " + filepath.Join(dir, "ssh_config"),
		Hosts: []string{"h1", "h2"},
		Dir:   dir,
		CacheDir: func(host string) string {
			return filepath.Join(dir, host, "cache")
		},
	}
}

// needSlurm returns the cluster of testdata/daemons/slurm, started on the
// first call. If it cannot start, it skips the test, or fails it under
// CI=true.
func needSlurm(t testing.TB) *Slurm {
	t.Helper()
	s, err := newSlurm(slurmDaemon.need(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nodeCPUs finds the CPUs of the node in slurm.conf.
var nodeCPUs = regexp.MustCompile(`(?m)^NodeName=.* CPUs=(\d+)`)

// newSlurm describes the cluster running in dir.
func newSlurm(dir string) (*Slurm, error) {
	conf := filepath.Join(dir, "slurm.conf")
	text, err := os.ReadFile(conf)
	if err != nil {
		return nil, err
	}
	m := nodeCPUs.FindSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("%s: no NodeName line with CPUs=", conf)
	}
	cpus, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return nil, err
	}
	return &Slurm{Env: []string{"SLURM_CONF=" + conf}, Dir: dir, CPUs: cpus}, nil
}

// scriptT is the key of Env.Values that holds the script's testscript.T,
// for need-sshd and need-slurm to skip the script.
type scriptT struct{}

// daemonCmds are the testscript commands need-sshd and need-slurm (see
// the top of this file).
var daemonCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"need-sshd": func(ts *testscript.TestScript, neg bool, args []string) {
		dir := needInScript(ts, sshdDaemon, neg, args)
		s := newSSHD(dir)
		ts.Setenv("SSH", s.SSH)
		ts.Setenv("SSH_HOSTS", strings.Join(s.Hosts, " "))
		ts.Setenv("SSHD_DIR", s.Dir)
	},
	"need-slurm": func(ts *testscript.TestScript, neg bool, args []string) {
		dir := needInScript(ts, slurmDaemon, neg, args)
		s, err := newSlurm(dir)
		ts.Check(err)
		for _, kv := range s.Env {
			k, v, _ := strings.Cut(kv, "=")
			ts.Setenv(k, v)
		}
		ts.Setenv("SLURM_CPUS", strconv.Itoa(s.CPUs))
	},
}

// needInScript starts d (once) for a script, or ends the script: skipped,
// or failed under CI=true.
func needInScript(ts *testscript.TestScript, d *daemon, neg bool, args []string) string {
	if neg || len(args) > 0 {
		ts.Fatalf("usage: need-%s", d.name)
	}
	dir, err := d.start()
	if err != nil {
		msg, fail := d.unavailable()
		if fail {
			ts.Fatalf("%s", msg)
		}
		ts.Value(scriptT{}).(testscript.T).Skip(msg)
	}
	return dir
}

// daemonsAfter runs the tests, then stops the daemons they started.
type daemonsAfter struct{ m *testing.M }

// Run runs the tests and stops the daemons.
func (d daemonsAfter) Run() int {
	defer stopDaemons()
	return d.m.Run()
}

// runDaemonClient runs argv with env added to the environment and stdin as its
// standard input, and returns its standard output; it fails the test if
// argv fails.
func runDaemonClient(t *testing.T, env []string, stdin string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}

// TestDaemonSSHD checks the sshd the remote-worker tests use: both host
// aliases run commands, pass stdin through, and have caches of their own.
func TestDaemonSSHD(t *testing.T) {
	s := needSSHD(t)
	ssh := strings.Fields(s.SSH)
	if len(s.Hosts) < 2 {
		t.Fatalf("hosts %q, want two at least", s.Hosts)
	}
	caches := map[string]string{}
	for _, h := range s.Hosts {
		if got := runDaemonClient(t, nil, "", append(ssh, h, "echo", "hi")...); got != "hi\n" {
			t.Errorf("%s: echo hi printed %q", h, got)
		}
		if got := runDaemonClient(t, nil, "x\ny\n", append(ssh, h, "cat")...); got != "x\ny\n" {
			t.Errorf("%s: cat of x, y printed %q", h, got)
		}
		got := strings.TrimSpace(runDaemonClient(t, nil, "", append(ssh, h, `echo "$XDG_CACHE_HOME"`)...))
		if want := s.CacheDir(h); got != want {
			t.Errorf("%s: XDG_CACHE_HOME=%q, want %q", h, got, want)
		}
		if other, ok := caches[got]; ok {
			t.Errorf("%s and %s share XDG_CACHE_HOME=%q", other, h, got)
		}
		caches[got] = h
	}
}

// TestDaemonSlurm checks the cluster the remote-worker tests use: jobs
// run, srun passes stdin through, and inside one allocation of two tasks,
// two exclusive one-task steps run at the same time (as two workers do).
func TestDaemonSlurm(t *testing.T) {
	s := needSlurm(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if got := runDaemonClient(t, s.Env, "", "salloc", "-n2", "srun", "-n1", "hostname"); got != host+"\n" {
		t.Errorf("salloc -n2 srun -n1 hostname printed %q, want %q", got, host+"\n")
	}
	if got := runDaemonClient(t, s.Env, "x\n", "srun", "-n1", "cat"); got != "x\n" {
		t.Errorf("echo x | srun -n1 cat printed %q", got)
	}
	if s.CPUs < 2 {
		t.Skipf("the node has %d CPU: no two steps at once", s.CPUs)
	}
	// Each step waits for the other to have started: they end only if
	// both run at once.
	const steps = `set -e
		srun --exclusive -N1 -n1 sh -c 'touch a; until [ -e b ]; do sleep 0.05; done' &
		first=$!
		srun --exclusive -N1 -n1 sh -c 'touch b; until [ -e a ]; do sleep 0.05; done'
		wait $first
		echo both`
	if got := runDaemonClient(t, s.Env, "", "salloc", "-n2", "timeout", "60", "sh", "-c", steps); got != "both\n" {
		t.Errorf("two exclusive steps in salloc -n2 printed %q, want %q", got, "both\n")
	}
}
