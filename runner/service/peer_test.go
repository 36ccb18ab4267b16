package service

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

const peerUser = "futures-test-peer"

// peerHelperEnv, when set to a socket path, makes TestPeerHelper the
// client run as another user: it connects, sends a good request and
// reports on stdout what came back.
const peerHelperEnv = "FUTURES_TEST_PEER_SOCKET"

// peerRequestEnv, when set, is the raw request the helper sends in place
// of GET /v1/service.
const peerRequestEnv = "FUTURES_TEST_PEER_REQUEST"

// TestPeerHelper is not a test: TestOtherUserIsRefused runs this test
// binary as another user with this test selected.
func TestPeerHelper(t *testing.T) {
	sock := os.Getenv(peerHelperEnv)
	if sock == "" {
		t.Skip("a helper process for TestOtherUserIsRefused")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Printf("dial: %v\n", err)
		os.Exit(0)
	}
	c.SetDeadline(time.Now().Add(patience))
	req := os.Getenv(peerRequestEnv)
	if req == "" {
		req = "GET /v1/service HTTP/1.1\r\nHost: futures\r\n\r\n"
	}
	_, werr := io.WriteString(c, req)
	b, rerr := io.ReadAll(c)
	fmt.Printf("connected as uid %d; write: %v; read %d bytes %q; read error: %v\n", os.Getuid(), werr, len(b), b, rerr)
	os.Exit(0)
}

// peerAccount returns the uid and gid of the test's second local user,
// creating it when missing; it skips the test when it cannot, except
// under CI=true, where the test must run.
func peerAccount(t *testing.T) (uid, gid string) {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s: cannot test the refusal of another user", why)
		}
		t.Skipf("%s: cannot test the refusal of another user", why)
	}
	if os.Getuid() != 0 {
		skip("not root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		skip("no setpriv")
	}
	u, err := user.Lookup(peerUser)
	if err != nil {
		if _, err := exec.LookPath("useradd"); err != nil {
			skip("no useradd")
		}
		out, err := exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", peerUser).CombinedOutput()
		// Exit status 9: another test made the user meanwhile.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 9) {
			t.Fatalf("useradd %s: %v: %s", peerUser, err, out)
		}
		if u, err = user.Lookup(peerUser); err != nil {
			t.Fatal(err)
		}
	}
	return u.Uid, u.Gid
}

// runAsPeer runs this test binary's TestPeerHelper as the peer user
// against sock, sending request ("": GET /v1/service), and returns what
// it reported.
func runAsPeer(t *testing.T, bin, uid, gid, sock, request string) string {
	t.Helper()
	cmd := exec.Command("setpriv", "--reuid="+uid, "--regid="+gid, "--clear-groups",
		bin, "-test.run=^TestPeerHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), peerHelperEnv+"="+sock, peerRequestEnv+"="+request, "GORACE=atexit_sleep_ms=0")
	cmd.Dir = filepath.Dir(bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the helper as uid %s: %v: %s", uid, err, out)
	}
	return string(out)
}

// A second local user is refused: first by the file modes, and when
// those are loosened, by the peer-credential check, which closes the
// connection unserved and logs it; the service goes on serving its own
// user.
func TestOtherUserIsRefused(t *testing.T) {
	uid, gid := peerAccount(t)
	bin := peerBinary(t)

	ts := serve(t, "peer", Options{})
	// Let the peer walk to the runtime directory, whose own mode (0700)
	// still keeps it out.
	for d := filepath.Dir(ts.paths.RuntimeDir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}

	t.Run("by the file modes", func(t *testing.T) {
		out := runAsPeer(t, bin, uid, gid, ts.paths.Socket, "")
		if !strings.Contains(out, "dial:") || !strings.Contains(out, "permission denied") {
			t.Fatalf("the peer got: %s; want permission denied at dial", out)
		}
	})

	t.Run("by the peer check", func(t *testing.T) {
		os.Chmod(ts.paths.RuntimeDir, 0o755)
		os.Chmod(ts.paths.Socket, 0o666)
		defer os.Chmod(ts.paths.RuntimeDir, 0o700)
		defer os.Chmod(ts.paths.Socket, 0o600)
		out := runAsPeer(t, bin, uid, gid, ts.paths.Socket, "")
		if !strings.Contains(out, "connected as uid "+uid) || !strings.Contains(out, "read 0 bytes") {
			t.Fatalf("the peer got: %s; want its connection closed with nothing served", out)
		}
		line := ts.log.waitLog(t, "refused a connection from uid "+uid)
		if !strings.Contains(line, fmt.Sprintf("serves uid %d only", os.Getuid())) {
			t.Errorf("log line %q does not say whom the service serves", line)
		}
		ts.good(t)
	})
}

// A second local user who POSTs /v1/submit to a running service, with
// the file modes in its way and then loosened, is refused, and nothing
// runs: the store holds no future of it, its command never ran, and a
// future of the service's own user, submitted after, runs alone.
func TestOtherUserSubmitRunsNothing(t *testing.T) {
	uid, gid := peerAccount(t)
	bin := peerBinary(t)
	p := testPaths(t, "peersubmit")
	_, done := runService(t, p)
	for d := filepath.Dir(p.RuntimeDir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	out := t.TempDir()
	submit := func(name string) string {
		body := `{"client":"peer","futures":[{"line":"touch ` + filepath.Join(out, name) + `"}]}`
		return "POST /v1/submit HTTP/1.1\r\nHost: futures\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}

	if got := runAsPeer(t, bin, uid, gid, p.Socket, submit("by-modes")); !strings.Contains(got, "permission denied") {
		t.Errorf("with the file modes, the peer got: %s; want permission denied at dial", got)
	}
	os.Chmod(p.RuntimeDir, 0o755)
	os.Chmod(p.Socket, 0o666)
	got := runAsPeer(t, bin, uid, gid, p.Socket, submit("by-peer-check"))
	os.Chmod(p.RuntimeDir, 0o700)
	os.Chmod(p.Socket, 0o600)
	if !strings.Contains(got, "connected as uid "+uid) || !strings.Contains(got, "read 0 bytes") {
		t.Errorf("past the file modes, the peer got: %s; want its connection closed with nothing served", got)
	}

	// The service's own user: its future runs, and it is the only one.
	c := Dial(p)
	defer c.Close()
	ids, err := c.Submit(ctx(t), SubmitRequest{Client: "owner", Futures: []FutureSpec{{Line: "touch " + filepath.Join(out, "owner")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx(t), WaitRequest{IDs: ids}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.List(ctx(t), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Spec.Client != "owner" || fs[0].ExitCode != 0 {
		for _, f := range fs {
			t.Errorf("in the store: %%%d %s %q by %q, exit %d", f.ID, f.State, f.Spec.Line, f.Spec.Client, f.ExitCode)
		}
		t.Fatalf("the store holds %d futures; want the owner's only", len(fs))
	}
	ran, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(ran) != 1 || filepath.Base(ran[0]) != "owner" {
		t.Errorf("commands that ran: %v; want the owner's only", ran)
	}
	if err := Shutdown(ctx(t), p, ShutdownRequest{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if err := awaitRun(t, done); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(p.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "refused a connection from uid "+uid) {
		t.Errorf("the service's log does not say it refused uid %s:\n%s", uid, log)
	}
}

// peerBinary copies this test binary where the peer user may run it.
func peerBinary(t *testing.T) string {
	t.Helper()
	binDir, err := os.MkdirTemp("", "futures-peer-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	os.Chmod(binDir, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "service.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
