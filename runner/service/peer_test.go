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
	"strings"
	"testing"
	"time"
)

const peerUser = "futures-test-peer"

// peerHelperEnv, when set to a socket path, makes TestPeerHelper the
// client run as another user: it connects, sends a good request and
// reports on stdout what came back.
const peerHelperEnv = "FUTURES_TEST_PEER_SOCKET"

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
	_, werr := io.WriteString(c, "GET /v1/service HTTP/1.1\r\nHost: futures\r\n\r\n")
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
// against sock and returns what it reported.
func runAsPeer(t *testing.T, bin, uid, gid, sock string) string {
	t.Helper()
	cmd := exec.Command("setpriv", "--reuid="+uid, "--regid="+gid, "--clear-groups",
		bin, "-test.run=^TestPeerHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), peerHelperEnv+"="+sock, "GORACE=atexit_sleep_ms=0")
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

	// The peer must be able to run the test binary: copy it where it may.
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

	ts := serve(t, "peer", Options{})
	// Let the peer walk to the runtime directory, whose own mode (0700)
	// still keeps it out.
	for d := filepath.Dir(ts.paths.RuntimeDir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}

	t.Run("by the file modes", func(t *testing.T) {
		out := runAsPeer(t, bin, uid, gid, ts.paths.Socket)
		if !strings.Contains(out, "dial:") || !strings.Contains(out, "permission denied") {
			t.Fatalf("the peer got: %s; want permission denied at dial", out)
		}
	})

	t.Run("by the peer check", func(t *testing.T) {
		os.Chmod(ts.paths.RuntimeDir, 0o755)
		os.Chmod(ts.paths.Socket, 0o666)
		defer os.Chmod(ts.paths.RuntimeDir, 0o700)
		defer os.Chmod(ts.paths.Socket, 0o600)
		out := runAsPeer(t, bin, uid, gid, ts.paths.Socket)
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
