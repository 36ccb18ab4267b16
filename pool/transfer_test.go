package pool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
	"github.com/futures-cli/futures/pool/shquote"
)

func TestWorkerPathFollowsGNUParallelsRules(t *testing.T) {
	for _, tc := range []struct{ name, want, err string }{
		{"a.txt", "a.txt", ""},
		{"tmp/foo/bar", "tmp/foo/bar", ""},
		{"/tmp/foo/bar", "/tmp/foo/bar", ""},
		{"/tmp/./foo/bar", "foo/bar", ""},
		{"tmp/./foo/bar", "foo/bar", ""},
		{"/home/u/./data/x", "data/x", ""},
		{"out/./in/file.out", "in/file.out", ""},
		{"a/./b/./c", "b/c", ""}, // the first /./ counts; the rest is a plain path
		{"./a.txt", "a.txt", ""},
		{"a//b/../c", "a/c", ""},
		{"/tmp/../etc/x", "/etc/x", ""}, // absolute stays absolute
		{"../x", "", "leaves the worker's directory"},
		{"a/../../x", "", "leaves the worker's directory"},
		{"/data/./../x", "", "leaves the worker's directory"},
		{"..", "", "leaves the worker's directory"},
		{"/data/./", "", "names a directory"},
		{"", "", "empty file name"},
		{"a\x00b", "", "NUL byte"},
	} {
		t.Run(strconv.Quote(tc.name), func(t *testing.T) {
			got, err := WorkerPath(tc.name)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("WorkerPath = %q, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("WorkerPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := WorkerPath("../x"); !errors.Is(err, ErrPathEscapes) {
		t.Fatalf("../x: %v, want ErrPathEscapes", err)
	}
}

// filePool is a one-worker pool whose worker's directory (its
// initializer cd's there) is remote, and a directory of the runner's
// files, local.
type filePool struct {
	p             *ProcessPool[string]
	local, remote string
}

func newFilePool(t *testing.T) *filePool {
	t.Helper()
	fp := &filePool{local: filepath.Join(t.TempDir(), "local"), remote: filepath.Join(t.TempDir(), "remote")}
	for _, d := range []string{fp.local, fp.remote} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fp.p = newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Initializer: "cd " + shquote.Quote(fp.remote)})
	return fp
}

// name is the name of a local file that the worker sees at rel in its
// directory: local/./rel.
func (fp *filePool) name(rel string) string { return fp.local + "/./" + rel }

// run runs spec on the worker and returns its outcome and stdout.
func (fp *filePool) run(t *testing.T, spec job.Spec) (job.Outcome, string) {
	t.Helper()
	var o job.Outcome
	spec.Shell, spec.Grace = true, time.Second
	out, err := result(t, psubmit(t, fp.p, func(ctx context.Context) (string, error) {
		var b bytes.Buffer
		var err error
		o, err = RunJob(ctx, spec, &b, &b, nil)
		return b.String(), err
	}))
	if err != nil {
		t.Fatalf("%q: %v", spec.Line, err)
	}
	return o, out
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// entries lists what is under dir, recursively, as relative paths.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestATransferredFileLandsInTheWorkersDirectoryWithItsMode(t *testing.T) {
	noLeak(t)
	fp := newFilePool(t)
	writeFile(t, filepath.Join(fp.local, "in", "a.txt"), "hello\n", 0o751)
	o, out := fp.run(t, job.Spec{Line: "cat in/a.txt; stat -c %a in/a.txt; pwd", Transfer: []string{fp.name("in/a.txt")}})
	if o.ExitCode != 0 || o.Err != nil {
		t.Fatalf("outcome %+v: %s", o, out)
	}
	if want := "hello\n751\n" + fp.remote + "\n"; out != want {
		t.Fatalf("the job printed %q, want %q", out, want)
	}
	if o.Sent != 6 || o.Received != 0 {
		t.Fatalf("Sent %d, Received %d; want 6, 0", o.Sent, o.Received)
	}
	// Without Cleanup it stays there, and nothing else does (no temporary file).
	if got := entries(t, fp.remote); strings.Join(got, " ") != "in in/a.txt" {
		t.Fatalf("the worker's directory holds %q", got)
	}
}

func TestAReturnedFileComesBackByteExact(t *testing.T) {
	noLeak(t)
	fp := newFilePool(t)
	o, out := fp.run(t, job.Spec{
		Line:   "mkdir -p res && head -c 3000000 /dev/urandom > res/out.bin && chmod 640 res/out.bin",
		Return: []string{fp.name("res/out.bin")},
	})
	if o.ExitCode != 0 || o.Err != nil {
		t.Fatalf("outcome %+v: %s", o, out)
	}
	remote, err := os.ReadFile(filepath.Join(fp.remote, "res", "out.bin"))
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(fp.local, "res", "out.bin")
	got, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	if len(remote) != 3000000 || !bytes.Equal(got, remote) {
		t.Fatalf("came back %d bytes, the worker's file has %d; equal: %v", len(got), len(remote), bytes.Equal(got, remote))
	}
	if fi, _ := os.Stat(local); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640", fi.Mode())
	}
	if o.Received != 3000000 || o.Sent != 0 {
		t.Fatalf("Sent %d, Received %d; want 0, 3000000", o.Sent, o.Received)
	}
	if got := entries(t, fp.local); strings.Join(got, " ") != "res res/out.bin" {
		t.Fatalf("the runner's directory holds %q", got)
	}
}

func TestCleanupRemovesTheFilesOnTheWorker(t *testing.T) {
	noLeak(t)
	fp := newFilePool(t)
	writeFile(t, filepath.Join(fp.local, "d", "e", "a.txt"), "abc", 0o644)
	if err := os.Mkdir(filepath.Join(fp.remote, "d"), 0o755); err != nil { // there before: it stays
		t.Fatal(err)
	}
	o, out := fp.run(t, job.Spec{
		Line:     "wc -c < d/e/a.txt > d/e/a.txt.out",
		Transfer: []string{fp.name("d/e/a.txt")},
		Return:   []string{fp.name("d/e/a.txt.out")},
		Cleanup:  true,
	})
	if o.ExitCode != 0 || o.Err != nil {
		t.Fatalf("outcome %+v: %s", o, out)
	}
	if got, err := os.ReadFile(filepath.Join(fp.local, "d", "e", "a.txt.out")); err != nil || strings.TrimSpace(string(got)) != "3" {
		t.Fatalf("returned %q, %v", got, err)
	}
	if got := entries(t, fp.remote); strings.Join(got, " ") != "d" {
		t.Fatalf("after cleanup the worker's directory holds %q, want only d (which was there before)", got)
	}
	if o.Sent != 3 || o.Received != 2 {
		t.Fatalf("Sent %d, Received %d; want 3, 2", o.Sent, o.Received)
	}
}

func TestAMissingReturnFileFailsTheJobNamingIt(t *testing.T) {
	noLeak(t)
	t.Chdir(t.TempDir())
	fp := newFilePool(t)
	o, out := fp.run(t, job.Spec{Line: "echo x > here.out", Return: []string{"here.out", "nope.out"}, Cleanup: true})
	msg := "--return nope.out: open " + filepath.Join(fp.remote, "nope.out") + ": no such file or directory"
	if o.ExitCode != 0 || !strings.Contains(errText(o.Err), msg) {
		t.Fatalf("outcome %+v, want exit 0 and an error naming nope.out", o)
	}
	if out != "futures: "+msg+"\n" {
		t.Fatalf("the job's output is %q, want the error on its stderr", out)
	}
	// The one that exists came back, here, relative to the runner's directory.
	if got, err := os.ReadFile("here.out"); err != nil || string(got) != "x\n" {
		t.Fatalf("here.out: %q, %v", got, err)
	}
	if got := entries(t, fp.remote); len(got) != 0 {
		t.Fatalf("after cleanup the worker's directory holds %q", got)
	}
}

func TestANameThatLeavesTheWorkersDirectoryIsRefused(t *testing.T) {
	noLeak(t)
	fp := newFilePool(t)
	for _, spec := range []job.Spec{
		{Line: "touch ran", Transfer: []string{fp.local + "/./../x"}},
		{Line: "touch ran", Return: []string{"../x.out"}},
	} {
		o, _ := fp.run(t, spec)
		if o.ExitCode != -1 || !strings.Contains(errText(o.Err), "not started") || !strings.Contains(errText(o.Err), "leaves the worker's directory") {
			t.Fatalf("outcome %+v, want a job refused for a name with ..", o)
		}
	}
	if got := entries(t, fp.remote); len(got) != 0 {
		t.Fatalf("a refused job ran: the worker's directory holds %q", got)
	}
}

func TestAnUnreadableTransferFileFailsThatJobOnly(t *testing.T) {
	noLeak(t)
	fp := newFilePool(t)
	writeFile(t, filepath.Join(fp.local, "b.txt"), "b", 0o644)
	o, out := fp.run(t, job.Spec{Line: "touch ran", Transfer: []string{fp.name("b.txt"), fp.name("missing.txt")}})
	if o.ExitCode != -1 || !strings.Contains(errText(o.Err), "--transferfile "+fp.name("missing.txt")+": cannot read it") {
		t.Fatalf("outcome %+v, want an error naming missing.txt", o)
	}
	if !strings.HasPrefix(out, "futures: not started: --transferfile ") {
		t.Fatalf("the job's output is %q, want the error on its stderr", out)
	}
	if err := os.Mkdir(filepath.Join(fp.local, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	o, _ = fp.run(t, job.Spec{Line: "touch ran", Transfer: []string{fp.name("sub")}})
	if o.ExitCode != -1 || !strings.Contains(errText(o.Err), "not a regular file") {
		t.Fatalf("outcome %+v, want an error for a directory", o)
	}
	if got := entries(t, fp.remote); len(got) != 0 {
		t.Fatalf("the worker's directory holds %q: a job that could not have its files ran, or got some", got)
	}
	// The worker goes on.
	o, out = fp.run(t, job.Spec{Line: "cat b.txt", Transfer: []string{fp.name("b.txt")}, Cleanup: true})
	if o.ExitCode != 0 || out != "b" {
		t.Fatalf("the next job: %+v, %q", o, out)
	}
}

func TestAWorkerThatSharesTheRunnersDirectoryLeavesItsFilesAlone(t *testing.T) {
	noLeak(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, "a.txt", "abc", 0o644)
	// No initializer: the local worker's directory is the runner's own.
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1})
	fp := &filePool{p: p, local: dir, remote: dir}
	o, out := fp.run(t, job.Spec{
		Line:     "wc -c < a.txt > a.txt.out",
		Transfer: []string{"a.txt", dir + "/./a.txt", "link/a.txt"}, // three names of the one file
		Return:   []string{"a.txt.out"},
		Cleanup:  true,
	})
	if o.ExitCode != 0 || o.Err != nil || o.Sent != 0 || o.Received != 0 {
		t.Fatalf("outcome %+v: %s; want a job that ran with nothing sent nor received", o, out)
	}
	if got := entries(t, dir); strings.Join(got, " ") != "a.txt a.txt.out link" {
		t.Fatalf("the directory holds %q: Cleanup removed the runner's own files, or a temporary file is left", got)
	}
	// A name the worker places elsewhere still travels: sub/./b.txt is
	// the worker's b.txt.
	writeFile(t, "sub/b.txt", "b", 0o644)
	o, out = fp.run(t, job.Spec{Line: "cat b.txt", Transfer: []string{"sub/./b.txt"}, Cleanup: true})
	if o.ExitCode != 0 || out != "b" || o.Sent != 1 {
		t.Fatalf("outcome %+v: %q; want b.txt sent", o, out)
	}
	if got := entries(t, dir); strings.Join(got, " ") != "a.txt a.txt.out link sub sub/b.txt" {
		t.Fatalf("the directory holds %q", got)
	}
}

func TestALargeFileCrossesBothWaysInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB each way")
	}
	noLeak(t)
	fp := newFilePool(t)
	const size = 64 << 20
	src := filepath.Join(fp.local, "big")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, &pattern{}, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// The job reports its worker's peak resident memory, which would
	// hold the file if the worker read it whole.
	o, out := fp.run(t, job.Spec{
		Line:     `cp big big.back && grep VmHWM /proc/$PPID/status | tr -s ' ' | cut -d' ' -f2`,
		Transfer: []string{fp.name("big")}, Return: []string{fp.name("big.back")},
		Cleanup: true,
	})
	runtime.ReadMemStats(&after)
	if o.ExitCode != 0 || o.Err != nil || o.Sent != size || o.Received != size {
		t.Fatalf("outcome %+v: %s", o, out)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("the runner allocated %d MiB to move 2×64 MiB", alloc>>20)
	}
	hwm, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("the job printed %q", out)
	}
	t.Logf("the worker's peak RSS: %d MiB", hwm>>10)
	if hwm > 48<<10 {
		t.Errorf("the worker's peak RSS is %d MiB, for a 64 MiB file", hwm>>10)
	}
	back, err := os.Open(filepath.Join(fp.local, "big.back"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if n, err := io.Copy(&patternChecker{t: t}, back); n != size || err != nil {
		t.Fatalf("came back %d bytes, %v", n, err)
	}
	if got := entries(t, fp.remote); len(got) != 0 {
		t.Fatalf("after cleanup the worker's directory holds %q", got)
	}
}

// patternChecker checks that what is written to it is what pattern reads.
type patternChecker struct {
	t   *testing.T
	p   pattern
	buf []byte
}

func (c *patternChecker) Write(b []byte) (int, error) {
	if len(c.buf) < len(b) {
		c.buf = make([]byte, len(b))
	}
	want := c.buf[:len(b)]
	off := c.p.n
	_, _ = c.p.Read(want)
	if !bytes.Equal(b, want) {
		c.t.Fatalf("the file differs from offset %d on", off)
	}
	return len(b), nil
}

// pattern is an endless reader of a block of bytes repeated, whose odd
// length makes every chunk of a file differ from the one before.
type pattern struct{ n int }

var patternBlock = func() []byte {
	b := make([]byte, 65521)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}()

func (r *pattern) Read(p []byte) (int, error) {
	for k := 0; k < len(p); {
		c := copy(p[k:], patternBlock[r.n%len(patternBlock):])
		k += c
		r.n += c
	}
	return len(p), nil
}

func TestAWorkerWithoutTheFilesFeatureFailsTheJobNotThePool(t *testing.T) {
	l := &fakeLauncher{serveFn: func(in io.Reader, out io.Writer) {
		fr, fw := wire.NewReader(in), wire.NewWriter(out)
		h := wire.LocalHello("worker")
		h.Features = nil
		_ = fw.SendJSON(wire.FrameHello, h)
		_, _, _ = fr.Next() // Hello
		_, _, _ = fr.Next() // Init
		_ = fw.SendJSON(wire.FrameReady, wire.ReadyFrame{})
		_, _ = io.Copy(io.Discard, in)
	}}
	p := newTestProcessPool(t, ProcessOptions{MaxWorkers: 1, Launcher: l})
	var o job.Outcome
	_, err := result(t, psubmit(t, p, func(ctx context.Context) (string, error) {
		var err error
		o, err = RunJob(ctx, job.Spec{Line: "true", Return: []string{"x"}}, nil, nil, nil)
		return "", err
	}))
	if err != nil || o.ExitCode != -1 || !strings.Contains(errText(o.Err), "cannot transfer files") {
		t.Fatalf("outcome %+v, %v; want the job refused", o, err)
	}
	if err := p.Shutdown(ctxTimeout(t), ShutdownOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	l.wg.Wait()
}

func TestServeWorkerRefusesFileFramesOutOfPlace(t *testing.T) {
	dir := t.TempDir()
	job := wire.JobFrame{ID: 1, Spec: job.Spec{Line: "x", Dir: dir, Transfer: []string{"a"}}}
	for _, tc := range []struct {
		name  string
		send  func(s *session)
		error string
	}{
		{"data before a header", func(s *session) { s.send(wire.FrameFileData, []byte("x")) }, "no file under way"},
		{"an end that says another size", func(s *session) {
			s.send(wire.FrameFileHeader, wire.FileHeader{ID: 1, Path: "a", Mode: 0o644, Size: 1})
			s.send(wire.FrameFileData, []byte("xy"))
			s.send(wire.FrameFileEnd, wire.FileEnd{ID: 1, Size: 1})
		}, "the end says 1 bytes, 2 came"},
		{"a file the job does not list", func(s *session) {
			s.send(wire.FrameFileHeader, wire.FileHeader{ID: 1, Path: "b", Mode: 0o644})
		}, `file 0 of job 1 is "b", not "a"`},
		{"a file of another job", func(s *session) {
			s.send(wire.FrameFileHeader, wire.FileHeader{ID: 2, Path: "a", Mode: 0o644})
		}, "a FileHeader frame of job 2 during job 1"},
		{"a job before its files", func(s *session) { s.send(wire.FrameJob, wire.JobFrame{ID: 2}) }, "unexpected Job frame among the files of job 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, fakeJob)
			s.handshake(wire.InitFrame{Name: "worker_0"})
			s.send(wire.FrameJob, job)
			tc.send(s)
			var ef wire.ErrorFrame
			s.expect(wire.FrameError, &ef)
			if !strings.Contains(ef.Message, tc.error) {
				t.Fatalf("Error frame %q, want it to say %q", ef.Message, tc.error)
			}
			if err := s.result(); !errors.Is(err, ErrProtocol) {
				t.Fatalf("ServeWorker = %v, want ErrProtocol", err)
			}
			if got := entries(t, dir); len(got) != 0 {
				t.Fatalf("left behind: %q", got)
			}
		})
	}
}

func TestServeWorkerDropsAFileTheRunnerGivesUpAndDoesNotRunTheJob(t *testing.T) {
	dir := t.TempDir()
	ran := false
	s := serve(t, func(ctx context.Context, spec job.Spec, jio JobIO) job.Outcome {
		ran = true
		return fakeJob(ctx, spec, jio)
	})
	s.handshake(wire.InitFrame{Name: "worker_0"})
	s.send(wire.FrameJob, wire.JobFrame{ID: 1, Spec: job.Spec{Line: "x", Dir: dir, Transfer: []string{"a", "sub/b", "c"}, Cleanup: true}})
	s.send(wire.FrameFileHeader, wire.FileHeader{ID: 1, Index: 0, Path: "a", Mode: 0o644, Size: 1})
	s.send(wire.FrameFileData, []byte("a"))
	s.send(wire.FrameFileEnd, wire.FileEnd{ID: 1, Index: 0, Size: 1})
	s.send(wire.FrameFileHeader, wire.FileHeader{ID: 1, Index: 1, Path: "sub/b", Mode: 0o644, Size: 10})
	s.send(wire.FrameFileData, []byte("half"))
	s.send(wire.FrameCancel, wire.JobRef{ID: 1}) // among the chunks: acted on, not an error
	s.send(wire.FrameFileEnd, wire.FileEnd{ID: 1, Index: 1, Size: 4, Error: "context canceled"})
	var o wire.OutcomeFrame
	s.expect(wire.FrameOutcome, &o)
	if ran || o.ExitCode != -1 || errText(o.Err) != "not started: --transferfile sub/b: the sender gave it up: context canceled" {
		t.Fatalf("ran %v, outcome %+v", ran, o)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("with Cleanup, the files it got are removed: left %q", got)
	}
	// The session goes on.
	s.send(wire.FrameJob, wire.JobFrame{ID: 2, Spec: job.Spec{Line: "y"}})
	s.expect(wire.FrameStarted, nil)
	s.expect(wire.FrameStdout, nil)
	s.expect(wire.FrameStderr, nil)
	s.expect(wire.FrameOutcome, &o)
	if !ran || o.ID != 2 {
		t.Fatalf("the next job: ran %v, outcome %+v", ran, o)
	}
	s.toW.Close()
	if err := s.result(); err != nil {
		t.Fatal(err)
	}
}
