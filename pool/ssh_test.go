package pool

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
)

// These tests run PrepareSSH through a stand-in for ssh: a script that
// runs the remote command line under sh on this machine, as sshd runs it
// under the login shell, with a cache and a PATH of the host's own
// (DIR/HOST/cache, DIR/HOST/bin). The tests over a real sshd are in the
// top-level package (remote_test.go).

// fakeSSH writes the stand-in for ssh into a new directory and returns its
// argv and the directory. Each session it opens is a line of
// DIR/sessions.log (see sessions).
func fakeSSH(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
h=$1; shift
echo "$h" >>"` + dir + `/sessions.log"
[ -f "` + dir + `/$h/noise" ] && echo "Welcome to $h, a login script that talks"
[ -f "` + dir + `/$h/down" ] && { echo "ssh: connect to host $h port 22: Connection refused" >&2; exit 255; }
export XDG_CACHE_HOME="` + dir + `/$h/cache" PATH="` + dir + `/$h/bin:$PATH"
[ -f "` + dir + `/$h/cachehome" ] && XDG_CACHE_HOME=$(cat "` + dir + `/$h/cachehome")
exec /bin/sh -c "$1"
`
	ssh := filepath.Join(dir, "ssh")
	if err := os.WriteFile(ssh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{ssh}, dir
}

// hostFile writes DIR/HOST/NAME (in bin/ executable).
func hostFile(t *testing.T, dir, host, name, content string) {
	t.Helper()
	p := filepath.Join(dir, host, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// testWorkerOnHosts makes the binary this test sends serve as a worker.
func testWorkerOnHosts(t *testing.T) {
	t.Setenv(testWorkerEnv, "1")
	t.Setenv("GORACE", "atexit_sleep_ms=0")
}

// prepare is PrepareSSH, and the end of the worker it leaves running when
// the test ends.
func prepare(t *testing.T, h SSHHost) (RemoteFutures, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rf, err := PrepareSSH(ctx, h)
	w := rf.Worker
	t.Cleanup(func() {
		rf := RemoteFutures{Worker: w}
		if err := rf.Close(); err != nil {
			t.Errorf("the worker PrepareSSH left running on %s ended: %v", h.Login, err)
		}
	})
	return rf, err
}

// sessions is how many ssh sessions fakeSSH of dir has opened, and
// starts the count again.
func sessions(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "sessions.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "sessions.log"))
	return strings.Count(string(b), "\n")
}

func TestPrepareSSHSendsThisBinaryOnceThenUsesTheCache(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, dir := fakeSSH(t)
	self, err := thisBinary()
	if err != nil {
		t.Fatal(err)
	}
	rf, err := prepare(t, SSHHost{SSH: ssh, Login: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "h1/cache/futures", self.entry(), "futures")
	if rf.Path != want || rf.Sent != self.size {
		t.Fatalf("first time: path %s, sent %d; want %s, %d", rf.Path, rf.Sent, want, self.size)
	}
	if rf.Hello.Role != "worker" || rf.Hello.CPUs != runtime.NumCPU() || rf.Hello.Futures != wire.FuturesVersion() {
		t.Errorf("hello %+v", rf.Hello)
	}
	before, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm()&0o100 == 0 {
		t.Errorf("cached binary mode %v: not executable", before.Mode())
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(want), ".futures-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	rf2, err := prepare(t, SSHHost{SSH: ssh, Login: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if rf2.Path != want || rf2.Sent != 0 {
		t.Fatalf("second time: path %s, sent %d; want %s, 0", rf2.Path, rf2.Sent, want)
	}
	after, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the cached binary changed: %v %v → %v %v", before.Sys().(*syscall.Stat_t).Ino, before.ModTime(),
			after.Sys().(*syscall.Stat_t).Ino, after.ModTime())
	}

	// Another host has a cache of its own.
	rf3, err := prepare(t, SSHHost{SSH: ssh, Login: "h2"})
	if err != nil {
		t.Fatal(err)
	}
	if rf3.Sent == 0 || !strings.HasPrefix(rf3.Path, filepath.Join(dir, "h2")) {
		t.Errorf("h2: path %s, sent %d", rf3.Path, rf3.Sent)
	}
}

// runOnHost runs n jobs `echo hi` on a pool of one worker on h1, started
// by l, and shuts the pool down.
func runOnHost(t *testing.T, l Launcher, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	p := NewProcessPool[string](ProcessOptions{Hosts: []Host{{Name: "h1", Launcher: l, Workers: 1}}})
	for range n {
		f, err := p.Submit(ctx, func(ctx context.Context) (string, error) {
			var out strings.Builder
			_, err := RunJob(ctx, job.Spec{Line: "echo hi", Shell: true}, &out, nil, nil)
			return out.String(), err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Result(ctx); got != "hi\n" || err != nil {
			t.Errorf("job: %q, %v", got, err)
		}
	}
	if err := p.Shutdown(ctx, ShutdownOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
}

func TestTheFirstWorkerOnAHostWithTheBinaryIsTheProbesSession(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, dir := fakeSSH(t)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()

	// Not there yet: a session probes, one sends, and the worker that
	// answered there exits (its stdin carried the binary); the first
	// worker is a session of its own.
	rf, err := PrepareSSH(ctx, SSHHost{SSH: ssh, Login: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if rf.Sent == 0 || rf.Worker != nil {
		t.Fatalf("first time: sent %d, worker %v; want the binary sent and no worker", rf.Sent, rf.Worker)
	}
	l := SSHLauncher(ssh, "h1", rf.Path)
	runOnHost(t, l, 2)
	if got := sessions(t, dir); got != 3 {
		t.Errorf("the binary sent: %d ssh sessions to prepare h1 and run its worker, want 3", got)
	}

	// Cached: the probe's worker is the first worker, and the pool's
	// handshake reads its Hello again. One session in all.
	rf, err = PrepareSSH(ctx, SSHHost{SSH: ssh, Login: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if rf.Sent != 0 || rf.Worker == nil || rf.Hello.Role != "worker" {
		t.Fatalf("cached: sent %d, worker %v, hello %+v; want a worker running", rf.Sent, rf.Worker, rf.Hello)
	}
	if !strings.HasPrefix(rf.Worker.String(), "ssh h1 pid ") {
		t.Errorf("the worker is %q, want it named like SSHLauncher's: ssh h1 pid N", rf.Worker)
	}
	l = SSHLauncher(ssh, "h1", rf.Path)
	l.Adopt(rf.Worker)
	runOnHost(t, l, 2)
	if got := sessions(t, dir); got != 1 {
		t.Errorf("the binary cached: %d ssh sessions to prepare h1 and run its worker, want 1", got)
	}

	// The next pool of that launcher starts its worker anew.
	runOnHost(t, l, 1)
	if got := sessions(t, dir); got != 1 {
		t.Errorf("a second pool: %d ssh sessions, want 1", got)
	}
}

func TestAWorkerNoLaunchTookEndsWithThePool(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, _ := fakeSSH(t)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for i := range 2 { // the second time, the binary is cached
		rf, err := PrepareSSH(ctx, SSHHost{SSH: ssh, Login: "h1"})
		if err != nil || (rf.Worker == nil) != (i == 0) {
			t.Fatalf("prepare %d: worker %v, %v", i, rf.Worker, err)
		}
		if i == 0 {
			continue
		}
		cmd := rf.Worker.(*cmdProcess).cmd
		l := SSHLauncher(ssh, "h1", rf.Path)
		l.Adopt(rf.Worker)
		// No task: no Launch.
		p := NewProcessPool[int](ProcessOptions{Hosts: []Host{{Name: "h1", Launcher: l, Workers: 1}}})
		if err := p.Shutdown(ctx, ShutdownOptions{Wait: true}); err != nil {
			t.Fatal(err)
		}
		if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
			t.Errorf("the worker no Launch took: %v after Shutdown, want a clean exit", cmd.ProcessState)
		}
		if err := l.Close(); err != nil {
			t.Errorf("a second Close: %v", err)
		}
	}
}

func TestPrepareSSHSkipsWhatALoginScriptPrints(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, dir := fakeSSH(t)
	hostFile(t, dir, "h1", "noise", "")
	for i := range 2 {
		rf, err := prepare(t, SSHHost{SSH: ssh, Login: "h1"})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if (rf.Sent > 0) != (i == 0) {
			t.Errorf("run %d: sent %d", i, rf.Sent)
		}
	}
}

func TestTwoRunnersSendingToOneHostAtOnceBothEndWell(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, _ := fakeSSH(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	paths := make([]string, 3)
	for i := range errs {
		wg.Go(func() {
			rf, err := prepare(t, SSHHost{SSH: ssh, Login: "h1"})
			paths[i], errs[i] = rf.Path, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("runner %d: %v", i, err)
		}
		if paths[i] != paths[0] {
			t.Errorf("runner %d: path %s, runner 0: %s", i, paths[i], paths[0])
		}
	}
}

func TestPrepareSSHWithRemoteFutures(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, _ := fakeSSH(t)
	self, err := thisBinary()
	if err != nil {
		t.Fatal(err)
	}
	rf, err := prepare(t, SSHHost{SSH: ssh, Login: "h1", Futures: self.path})
	if err != nil {
		t.Fatal(err)
	}
	if rf.Path != self.path || rf.Sent != 0 || rf.Hello.CPUs != runtime.NumCPU() {
		t.Errorf("got %+v", rf)
	}

	_, err = prepare(t, SSHHost{SSH: ssh, Login: "h1", Futures: "/no/such/futures", Label: "2/h1"})
	if err == nil || !strings.HasPrefix(err.Error(), "2/h1: starting /no/such/futures worker: ") ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("a wrong --remote-futures: %v", err)
	}
}

// fakeFutures is a script that answers like `futures worker` of version
// v on goos/goarch: its Hello frame, then nothing.
func fakeFutures(v, goos, goarch string) string {
	payload := fmt.Sprintf(`{"protocol":%d,"futures":%q,"role":"worker","goos":%q,"goarch":%q,"cpus":7,"hostname":"fake","pid":1}`,
		wire.ProtocolVersion, v, goos, goarch)
	return fmt.Sprintf("#!/bin/sh\nprintf '\\000\\000\\000\\%03o\\001%%s' '%s'\ncat >/dev/null\n", len(payload), payload)
}

func TestPrepareSSHRemoteFuturesOfAnotherVersionIsAnError(t *testing.T) {
	ssh, dir := fakeSSH(t)
	hostFile(t, dir, "h1", "bin/futures", fakeFutures("v0.0.1", "linux", "amd64"))
	rf, err := prepare(t, SSHHost{SSH: ssh, Login: "h1", Futures: "futures"})
	want := fmt.Sprintf("h1: futures is futures v0.0.1, this futures is %s", wire.FuturesVersion())
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %+v, %v; want the error %q", rf, err, want)
	}
}

func TestPrepareSSHOnAnotherArchitecture(t *testing.T) {
	ssh, dir := fakeSSH(t)
	hostFile(t, dir, "mac", "bin/uname", "#!/bin/sh\ncase $1 in -s) echo Darwin;; -m) echo arm64;; esac\n")
	_, err := prepare(t, SSHHost{SSH: ssh, Login: "mac"})
	want := fmt.Sprintf("mac: is darwin/arm64, this futures is %s/%s: install futures there and pass --remote-futures PATH",
		runtime.GOOS, runtime.GOARCH)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	// A futures of another version on its PATH is named.
	hostFile(t, dir, "mac", "bin/futures", fakeFutures("v0.0.1", "darwin", "arm64"))
	_, err = prepare(t, SSHHost{SSH: ssh, Login: "mac"})
	if err == nil || !strings.HasPrefix(err.Error(), want+" (the futures on its PATH, "+dir+"/mac/bin/futures, is version v0.0.1") {
		t.Errorf("got %v", err)
	}
}

func TestPrepareSSHErrorsNameTheHostAndSayWhy(t *testing.T) {
	testWorkerOnHosts(t)
	ssh, dir := fakeSSH(t)
	hostFile(t, dir, "down", "down", "")
	hostFile(t, dir, "full", "cachehome", "/dev/null/cache")
	hostFile(t, dir, "garbled", "bin/sha256sum", "#!/bin/sh\necho 0000  $1\n")
	for _, tc := range []struct{ host, want string }{
		{"down", "down: probing the host: ssh: connect to host down port 22: Connection refused (exit status 255)"},
		{"full", "full: sending "},
		{"garbled", "garbled: sending "},
	} {
		_, err := prepare(t, SSHHost{SSH: ssh, Login: tc.host})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %s…", tc.host, err, tc.want)
		}
		t.Logf("%s: %v", tc.host, err)
	}
}

func TestPrepareSSHStopsWhenCtxEnds(t *testing.T) {
	ssh, dir := fakeSSH(t)
	// uname outlasts patience: PrepareSSH returning within it means it
	// stopped at ctx's end, not at uname's.
	hostFile(t, dir, "slow", "bin/uname", "#!/bin/sh\nexec sleep 300\n")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := PrepareSSH(ctx, SSHHost{SSH: ssh, Login: "slow"})
	if err == nil || time.Since(start) > patience {
		t.Errorf("got %v after %v", err, time.Since(start))
	}
}

func TestTheScriptsAreOneLineOfShForAnyLoginShell(t *testing.T) {
	for name, s := range map[string]string{"probe": probeScript, "send": sendScript} {
		if strings.ContainsAny(s, "'\\!\n") {
			t.Errorf("%s script has a quote, backslash, ! or newline: %s", name, s)
		}
		if out, err := exec.Command("/bin/sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s script: sh -n: %v: %s", name, err, out)
		}
	}
}

func TestUnameNames(t *testing.T) {
	for _, tc := range []struct{ s, m, goos, goarch string }{
		{"Linux", "x86_64", "linux", "amd64"},
		{"Linux", "aarch64", "linux", "arm64"},
		{"Darwin", "arm64", "darwin", "arm64"},
		{"FreeBSD", "amd64", "freebsd", "amd64"},
		{"Linux", "armv7l", "linux", "arm"},
		{"Plan9", "vax", "plan9", "vax"},
	} {
		if g, a := goosOf(tc.s), goarchOf(tc.m); g != tc.goos || a != tc.goarch {
			t.Errorf("%s %s: %s/%s, want %s/%s", tc.s, tc.m, g, a, tc.goos, tc.goarch)
		}
	}
	if len(unameOS[runtime.GOOS]) == 0 || len(unameArch[runtime.GOARCH]) == 0 {
		t.Errorf("no uname names for this platform, %s/%s", runtime.GOOS, runtime.GOARCH)
	}
}

func TestRemoteFuturesShortPath(t *testing.T) {
	for _, tc := range []struct{ path, home, want string }{
		{"/home/ann/.cache/futures/x/futures", "/home/ann", "~/.cache/futures/x/futures"},
		{"/home/ann/.cache/futures/x/futures", "/home/ann/", "~/.cache/futures/x/futures"},
		{"/home/annie/futures", "/home/ann", "/home/annie/futures"},
		{"/opt/futures", "", "/opt/futures"},
		{"/opt/futures", "/", "/opt/futures"},
	} {
		if got := (RemoteFutures{Path: tc.path, Home: tc.home}).ShortPath(); got != tc.want {
			t.Errorf("%s in %s: %s, want %s", tc.path, tc.home, got, tc.want)
		}
	}
}

func TestIdentifies(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.2.3": true, "devel-0123456789ab": true, "devel-0123456789ab-dirty": false, "devel": false, "unknown": false, "": false,
	} {
		if identifies(v) != want {
			t.Errorf("identifies(%q) = %v", v, !want)
		}
	}
}
