package pool

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/pgroup"
	"github.com/futures-cli/futures/pool/shquote"
)

// The binary on the other side of ssh.
//
// A host reached over ssh needs a futures of our version to run as `futures
// worker`. PrepareSSH finds one, or puts one there, in at most two ssh
// sessions, and leaves the worker that answered running, as the host's
// first worker:
//
//  1. The probe: a small sh script prints the host's `uname -s` and
//     `uname -m`, then execs, as `worker`, our cache entry
//     ${XDG_CACHE_HOME:-$HOME/.cache}/futures/VERSION-HASH/futures (HASH: the
//     first 16 hex digits of this binary's SHA-256) when it is there and the
//     host's OS and architecture are ours, or else the `futures` on the
//     host's PATH. The runner reads that worker's Hello (its version, OS,
//     architecture and CPU count). The cache entry is this very binary; the
//     one on the PATH is used when its Hello names our version (and ours is
//     a release or a clean VCS build, whose version says what it is). Either
//     one is kept running (RemoteFutures.Worker): when the binary is there,
//     the first worker costs one ssh session, the probe's. Any other worker
//     that answered is asked to exit (its stdin closed).
//  2. Else, when the host's OS and architecture are ours, the send: this
//     binary goes to the host over ssh's stdin, is written to a temporary
//     name in the cache directory, checked against its SHA-256 there
//     (sha256sum, shasum -a 256 or openssl dgst -sha256), made executable and
//     renamed into place (two runners that send at once both end well: the
//     last rename wins, with the same bytes), and its Hello is read as
//     above; that worker, whose stdin carried the binary, exits. (Here
//     Worker is nil: the host's first worker costs a session of its own.)
//
// Both scripts are one line without single quotes, backslashes or `!`, run
// as `exec /bin/sh -c '…'`, so that any login shell (sh, bash, zsh, csh,
// fish) passes them to sh unchanged.

// SSHHost is a host for [PrepareSSH].
type SSHHost struct {
	// SSH is the ssh command and its options; nil means "ssh".
	SSH []string
	// Login is the [user@]host that ssh takes.
	Login string
	// Futures, if set, is the futures binary on the host (--remote-futures):
	// PrepareSSH neither looks for one nor sends one, and only reads its
	// Hello, which must name our version. A leading ~/ is the remote home.
	Futures string
	// Label names the host in errors; "" means Login.
	Label string
}

// Hello is what a futures worker says first on the worker protocol, as
// [RemoteFutures] keeps it: Protocol (the protocol version), Futures (its
// version), Role, GOOS, GOARCH, CPUs, Hostname, PID, Features (the optional
// parts of the protocol it speaks) and Boot (its machine's boot id, or "").
type Hello = wire.Hello

// RemoteFutures is the futures that [PrepareSSH] found or put on a host.
type RemoteFutures struct {
	// Path is the binary, as the host's shell finds it: for
	// [SSHLauncher].
	Path string
	// Hello is what it said when started as `futures worker`: its
	// version, OS and architecture, CPUs and hostname.
	Hello Hello
	// Sent is the size of the binary that PrepareSSH sent; 0 when the
	// host had one.
	Sent int64
	// Home is the remote $HOME, to shorten Path in messages ("" with
	// SSHHost.Futures).
	Home string
	// Worker, unless PrepareSSH had to send the binary (Sent > 0), is the
	// worker whose Hello this is, still running in the ssh session
	// PrepareSSH started it in, its Hello to be read again by whoever
	// takes it: a worker ready for a pool's handshake, as if
	// [SSHLauncher] had just started it. The caller owns it: hand it to
	// that launcher ([RemoteLauncher.Adopt]), or end it with Close.
	Worker Process
}

// Close ends rf.Worker, if it is set, and sets it to nil: it closes the
// worker's stdin, which makes it exit, and waits for it (killing it after
// 5 s). Do not call it for a Worker handed to a launcher.
func (rf *RemoteFutures) Close() error {
	w := rf.Worker
	rf.Worker = nil
	if w == nil {
		return nil
	}
	return stopProcess(w)
}

// ShortPath is Path with a leading $HOME written ~.
func (rf RemoteFutures) ShortPath() string {
	if rf.Home != "" && rf.Home != "/" {
		if rest, ok := strings.CutPrefix(rf.Path, strings.TrimSuffix(rf.Home, "/")+"/"); ok {
			return "~/" + rest
		}
	}
	return rf.Path
}

// PrepareSSH makes sure that h can run `futures worker` of this version, as
// described above, and returns the binary to run there with what it said
// in its handshake, and, unless it had to send the binary, that worker,
// still running (RemoteFutures.Worker, which the caller must hand on or
// Close). ctx bounds the preparation (its end kills the ssh sessions), not
// the life of the worker returned. Errors name the host: one that cannot
// be reached (with ssh's own message), another OS or architecture without
// a futures of our version on its PATH, a cache that cannot be written (the
// remote's message), a binary whose hash does not match after the trip, a
// --remote-futures that cannot be started or is another version.
func PrepareSSH(ctx context.Context, h SSHHost) (RemoteFutures, error) {
	label := h.Label
	if label == "" {
		label = h.Login
	}
	if h.Futures != "" {
		rf, err := probeGiven(ctx, h)
		if err != nil {
			return rf, fmt.Errorf("%s: %w", label, err)
		}
		return rf, nil
	}
	self, err := thisBinary()
	if err != nil {
		return RemoteFutures{}, err
	}
	rf, err := prepareSSH(ctx, h, self, label)
	if err != nil {
		return rf, fmt.Errorf("%s: %w", label, err)
	}
	return rf, nil
}

// futuresBinary is a futures executable to send: this program.
type futuresBinary struct {
	path    string
	sha256  string // hex
	size    int64
	version string // wire.FuturesVersion()
	goos    string
	goarch  string
}

// entry is the name of its cache directory: VERSION-HASH16.
func (b futuresBinary) entry() string {
	v := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == '_' {
			return r
		}
		return '_'
	}, b.version)
	return v + "-" + b.sha256[:16]
}

// thisBinary is this program's executable and its hash, computed once.
var thisBinary = sync.OnceValues(func() (futuresBinary, error) {
	exe, err := os.Executable()
	if err != nil {
		return futuresBinary{}, fmt.Errorf("finding this program to send it: %w", err)
	}
	return hashBinary(exe)
})

// hashBinary describes the executable at path, which is this program built
// for this OS and architecture.
func hashBinary(path string) (futuresBinary, error) {
	f, err := os.Open(path)
	if err != nil {
		return futuresBinary{}, fmt.Errorf("reading this program to send it: %w", err)
	}
	defer f.Close()
	hash := sha256.New()
	n, err := io.Copy(hash, f)
	if err != nil {
		return futuresBinary{}, fmt.Errorf("reading this program to send it: %w", err)
	}
	return futuresBinary{
		path: path, sha256: hex.EncodeToString(hash.Sum(nil)), size: n,
		version: wire.FuturesVersion(), goos: runtime.GOOS, goarch: runtime.GOARCH,
	}, nil
}

// identifies reports whether version names one build: a release or a
// clean VCS revision, not a development build of unknown content.
func identifies(version string) bool {
	return version != "" && version != "devel" && version != "unknown" && !strings.HasSuffix(version, "-dirty")
}

// prepareSSH is PrepareSSH without a --remote-futures, sending self when
// needed.
func prepareSSH(ctx context.Context, h SSHHost, self futuresBinary, label string) (RemoteFutures, error) {
	p, s, err := probe(ctx, h, self)
	if err != nil {
		return RemoteFutures{}, err
	}
	if s != nil {
		defer s.kill()
	}
	switch {
	case p.kind == "cache" && p.err == nil:
		return RemoteFutures{Path: p.path, Hello: p.hello, Home: p.home, Worker: s.worker(h.Login)}, nil
	case p.kind == "path" && p.err == nil && p.hello.Futures == self.version && identifies(self.version) &&
		wire.CheckHello(p.hello) == nil:
		return RemoteFutures{Path: p.path, Hello: p.hello, Home: p.home, Worker: s.worker(h.Login)}, nil
	}
	if s != nil {
		// A worker that will not do (another version): it exits.
		_ = s.end()
	}
	if p.goos != self.goos || p.goarch != self.goarch {
		msg := fmt.Sprintf("is %s/%s, this futures is %s/%s: install futures there and pass --remote-futures PATH",
			p.goos, p.goarch, self.goos, self.goarch)
		if p.kind == "path" && p.err == nil {
			msg += fmt.Sprintf(" (the futures on its PATH, %s, is version %s; this one is %s)", p.path, p.hello.Futures, self.version)
		}
		return RemoteFutures{}, errors.New(msg)
	}
	if p.kind == "cache" {
		// Our own binary in the cache did not start: send it again.
		_ = p.err
	}
	rf, err := send(ctx, h, self)
	if err != nil {
		return RemoteFutures{}, err
	}
	rf.Home = p.home
	return rf, nil
}

// probed is what the probe found.
type probed struct {
	goos, goarch string
	uname        string // uname -s and -m as printed
	home         string
	kind         string // "cache", "path", or "" for neither
	path         string // the binary it started
	hello        Hello  // its Hello, when err is nil
	err          error  // why it did not answer
}

// probeScript is session 1: $1 is the cache entry, the other arguments the
// uname -s/uname -m pairs of our OS and architecture.
var probeScript = oneLine(`
e=$1; shift;
os=$(uname -s); m=$(uname -m);
d="${XDG_CACHE_HOME:-$HOME/.cache}/futures/$e";
echo "futures-probe $os $m";
echo "home $HOME";
ok=; for p do if [ "$p" = "$os/$m" ]; then ok=1; fi; done;
if [ -n "$ok" ] && [ -f "$d/futures" ] && [ -x "$d/futures" ]; then echo "exec cache $d/futures"; exec "$d/futures" worker; fi;
f=$(command -v futures 2>/dev/null);
case $f in /*) echo "exec path $f"; exec "$f" worker;; esac;
echo none
`)

// sendScript is session 2: $1 is the cache entry, $2 the binary's SHA-256,
// $3 a token for the temporary name; the binary comes on stdin.
var sendScript = oneLine(`
e=$1; h=$2;
d="${XDG_CACHE_HOME:-$HOME/.cache}/futures/$e";
t="$d/.futures-$3.tmp";
mkdir -p "$d" || exit 1;
if cat >"$t"; then :; else rm -f "$t"; exit 1; fi;
if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum "$t");
elif command -v shasum >/dev/null 2>&1; then s=$(shasum -a 256 "$t");
elif command -v openssl >/dev/null 2>&1; then s=$(openssl dgst -sha256 "$t");
else rm -f "$t"; echo "no sha256sum, shasum or openssl to check the binary sent" >&2; exit 1; fi;
case $s in *"$h"*) ;; *) rm -f "$t"; echo "the binary sent has another SHA-256 on arrival: $s, want $h" >&2; exit 1;; esac;
chmod 755 "$t" && mv -f "$t" "$d/futures" || { rm -f "$t"; exit 1; };
echo "futures-sent $d/futures";
exec "$d/futures" worker
`)

// oneLine joins the lines of a script with blanks: each line ends with ;,
// then, do, else or the like.
func oneLine(script string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(script, "\n", " ")), " ")
}

// shScript is the remote command line that runs script under /bin/sh with
// args.
func shScript(script string, args ...string) string {
	var b strings.Builder
	b.WriteString("exec /bin/sh -c '" + script + "' futures")
	for _, a := range args {
		b.WriteString(" " + shquote.Quote(a))
	}
	return b.String()
}

// probe runs session 1 on h. When a worker answered (p.err is nil and
// p.kind is not ""), it returns that session too, for the caller to end or
// hand over.
func probe(ctx context.Context, h SSHHost, self futuresBinary) (p probed, _ *sshSession, err error) {
	args := []string{self.entry()}
	for _, s := range unameOS[self.goos] {
		for _, m := range unameArch[self.goarch] {
			args = append(args, s+"/"+m)
		}
	}
	s, err := startSession(ctx, sshCommand(h.SSH, h.Login, shScript(probeScript, args...)))
	if err != nil {
		return p, nil, err
	}
	answered := false
	defer func() {
		if !answered {
			s.kill()
		}
	}()
	line, err := s.lineWith("futures-probe ")
	if err != nil {
		return p, nil, s.fail("probing the host", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return p, nil, s.fail("probing the host", fmt.Errorf("unexpected answer %q", line))
	}
	p.uname = f[1] + " " + f[2]
	p.goos, p.goarch = goosOf(f[1]), goarchOf(f[2])
	if p.home, err = s.field("home "); err != nil {
		return p, nil, s.fail("probing the host", err)
	}
	line, err = s.line()
	if err != nil {
		return p, nil, s.fail("probing the host", err)
	}
	if line == "none" {
		return p, nil, s.end()
	}
	what, ok := strings.CutPrefix(line, "exec ")
	if !ok {
		return p, nil, s.fail("probing the host", fmt.Errorf("unexpected answer %q", line))
	}
	p.kind, p.path, _ = strings.Cut(what, " ")
	p.hello, p.err = s.hello()
	if p.err != nil {
		p.err = s.fail(p.path+" worker", p.err)
		return p, nil, nil
	}
	answered = true
	return p, s, nil
}

// send runs session 2 on h: it sends self and reads the Hello of the copy.
func send(ctx context.Context, h SSHHost, self futuresBinary) (RemoteFutures, error) {
	token := rand.Text()[:12]
	s, err := startSession(ctx, sshCommand(h.SSH, h.Login, shScript(sendScript, self.entry(), self.sha256, token)))
	if err != nil {
		return RemoteFutures{}, err
	}
	defer s.kill()
	f, err := os.Open(self.path)
	if err != nil {
		return RemoteFutures{}, fmt.Errorf("reading this program to send it: %w", err)
	}
	// The copy runs in a goroutine of its own: the remote side may fail
	// (no space) and answer before it has read everything.
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(s.stdin, f)
		_ = f.Close()
		if cerr := s.stdin.Close(); err == nil {
			err = cerr
		}
		copied <- err
	}()
	path, err := s.field("futures-sent ")
	if err != nil {
		// A failed remote side makes the copy fail too (a broken pipe):
		// the remote's stderr says why.
		s.kill()
		<-copied
		return RemoteFutures{}, s.fail("sending "+self.path, err)
	}
	if err := <-copied; err != nil {
		s.kill()
		return RemoteFutures{}, s.fail("sending "+self.path, err)
	}
	hello, err := s.hello()
	if err != nil {
		return RemoteFutures{}, s.fail(path+" worker", err)
	}
	// Its stdin carried the binary and is closed: this worker exits, and
	// the host's first worker is launched anew.
	_ = s.end()
	return RemoteFutures{Path: path, Hello: hello, Sent: self.size}, nil
}

// probeGiven reads the Hello of h.Futures, a --remote-futures.
func probeGiven(ctx context.Context, h SSHHost) (RemoteFutures, error) {
	s, err := startSession(ctx, sshCommand(h.SSH, h.Login, "exec "+remotePath(h.Futures)+" worker"))
	if err != nil {
		return RemoteFutures{}, err
	}
	defer s.kill()
	hello, err := s.hello()
	if err != nil {
		return RemoteFutures{}, s.fail("starting "+h.Futures+" worker", err)
	}
	if err := wire.CheckHello(hello); err != nil {
		_ = s.end()
		return RemoteFutures{}, fmt.Errorf("%s: %w", h.Futures, err)
	}
	if v := wire.FuturesVersion(); hello.Futures != v {
		_ = s.end()
		return RemoteFutures{}, fmt.Errorf("%s is futures %s, this futures is %s: install the same version there", h.Futures, hello.Futures, v)
	}
	return RemoteFutures{Path: h.Futures, Hello: hello, Worker: s.worker(h.Login)}, nil
}

// sshSession is one ssh session of PrepareSSH: lines of text from our
// scripts, then maybe the frames of a worker, which it may hand over as a
// Process (worker).
type sshSession struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *bufio.Reader
	stderr  headBuffer
	said    bytes.Buffer // what the worker's Hello came in, to say again
	waited  bool
	err     error  // of Wait
	unwatch func() // stops watching ctx
	handed  bool   // the session is a Process's now: worker was called
}

func startSession(ctx context.Context, argv []string) (*sshSession, error) {
	cmd := remoteCmd(argv, nil)
	s := &sshSession{cmd: cmd}
	cmd.Stderr = &s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.out = bufio.NewReaderSize(stdout, 64<<10)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	// ctx's end kills the session; wait unregisters that, and waits for a
	// kill under way, before it reaps the process.
	killed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(killed)
		_ = pgroup.Kill(cmd.Process.Pid)
	})
	s.unwatch = func() {
		if !stop() {
			<-killed
		}
	}
	return s, nil
}

// maxNoise is how many lines that are not ours (a login script's chatter)
// a session may print before our first one.
const maxNoise = 100

// line reads one line of text.
func (s *sshSession) line() (string, error) {
	line, err := s.out.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// lineWith reads lines until one that starts with prefix, skipping what a
// login script may print first.
func (s *sshSession) lineWith(prefix string) (string, error) {
	for range maxNoise {
		line, err := s.line()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(line, prefix) {
			return line, nil
		}
	}
	return "", fmt.Errorf("no %q line among the first %d", strings.TrimSpace(prefix), maxNoise)
}

// field reads lines until one that starts with prefix and returns the
// rest of it.
func (s *sshSession) field(prefix string) (string, error) {
	line, err := s.lineWith(prefix)
	return strings.TrimPrefix(line, prefix), err
}

// hello reads the Hello of the worker the script started, keeping the
// bytes read (the frame, and any read past it) in s.said.
func (s *sshSession) hello() (Hello, error) {
	var h Hello
	err := wire.NewReader(io.TeeReader(s.out, &s.said)).NextJSON(wire.FrameHello, &h)
	return h, err
}

// worker hands the session, whose worker has said its Hello, over to a
// Process for [RemoteLauncher.Adopt] (login names it in messages, as
// SSHLauncher's do): ctx no longer ends it, nor does s, and its Stdout
// gives the Hello again, then the rest of the stream.
func (s *sshSession) worker(login string) Process {
	s.handed = true
	s.unwatch()
	return &cmdProcess{cmd: s.cmd, label: "ssh " + login, remote: true, stdin: s.stdin,
		stdout: io.MultiReader(bytes.NewReader(s.said.Bytes()), s.out), stderr: &s.stderr}
}

// end closes the session's stdin, which makes a worker exit, and waits for
// it.
func (s *sshSession) end() error {
	_ = s.stdin.Close()
	return s.wait()
}

func (s *sshSession) wait() error {
	if !s.waited {
		s.waited = true
		s.unwatch()
		s.err = s.cmd.Wait()
		if errors.Is(s.err, exec.ErrWaitDelay) {
			s.err = nil
		}
	}
	return s.err
}

// kill ends the session at once, and waits for it, unless it has been
// handed over.
func (s *sshSession) kill() {
	if !s.waited && !s.handed {
		_ = pgroup.Kill(s.cmd.Process.Pid)
		_ = s.wait()
	}
}

// fail is the error of a session that failed at what, with err: the remote
// side's stderr when it said something, with the exit status.
func (s *sshSession) fail(what string, err error) error {
	_ = s.stdin.Close()
	werr := s.wait()
	msg := strings.TrimSpace(s.stderr.String())
	switch {
	case msg != "" && werr != nil:
		return fmt.Errorf("%s: %s (%w)", what, msg, werr)
	case msg != "":
		return fmt.Errorf("%s: %s: %w", what, msg, err)
	case werr != nil:
		return fmt.Errorf("%s: %w (%w)", what, err, werr)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unameOS are the names `uname -s` prints for each GOOS.
var unameOS = map[string][]string{
	"linux": {"Linux"}, "darwin": {"Darwin"}, "freebsd": {"FreeBSD"}, "openbsd": {"OpenBSD"},
	"netbsd": {"NetBSD"}, "dragonfly": {"DragonFly"}, "solaris": {"SunOS"}, "illumos": {"SunOS"},
	"aix": {"AIX"},
}

// unameArch are the names `uname -m` prints for each GOARCH.
var unameArch = map[string][]string{
	"amd64": {"x86_64", "amd64"}, "arm64": {"aarch64", "arm64"},
	"386": {"i386", "i486", "i586", "i686", "x86"}, "arm": {"armv6l", "armv7l", "armv7", "armv8l", "arm"},
	"ppc64le": {"ppc64le"}, "ppc64": {"ppc64"}, "s390x": {"s390x"}, "riscv64": {"riscv64"},
	"loong64": {"loongarch64"}, "mips64le": {"mips64"}, "mips": {"mips"},
}

// goosOf is the GOOS whose uname -s is s, or s in lower case.
func goosOf(s string) string {
	for goos, names := range unameOS {
		if goos != "illumos" && slices.Contains(names, s) {
			return goos
		}
	}
	return strings.ToLower(s)
}

// goarchOf is the GOARCH whose uname -m is m, or m.
func goarchOf(m string) string {
	for goarch, names := range unameArch {
		if slices.Contains(names, m) {
			return goarch
		}
	}
	return m
}
