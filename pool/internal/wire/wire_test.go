package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/job"
)

// patience bounds every wait of these tests; a test that needs it has hung.
const patience = time.Minute

// within runs fn and fails the test if it does not return within patience:
// a protocol fault must be an error, never a hang.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("%s: still blocked after %v", what, patience)
	}
}

func TestEveryFrameTypeSurvivesARoundTrip(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	frames := []struct {
		typ FrameType
		v   any // a pointer to the payload, or []byte for raw output
	}{
		{FrameHello, &Hello{Protocol: ProtocolVersion, Futures: "v1.2.3", Role: "worker", GOOS: "linux", GOARCH: "amd64", CPUs: 8, Hostname: "h", PID: 42, Features: []string{FeatureFiles}, Boot: "b0"}},
		{FrameError, &ErrorFrame{Message: "version mismatch"}},
		{FrameInit, &InitFrame{Name: "worker_3", ID: 3, Initializer: "cd /data && export T=$(cat t)", Shell: []string{"/bin/bash", "-c"}, Env: []string{"A=b"}, Grace: time.Second}},
		{FrameReady, &ReadyFrame{Error: "exit status 1", Stderr: "cat: t: No such file", Dir: "/data", DirID: "2049:1234"}},
		{FrameJob, &JobFrame{ID: 7, Spec: job.Spec{Line: "echo 'a b' | wc -c", Shell: true, ShellCmd: []string{"/bin/sh", "-c"}, Env: []string{"FUTURES_SEQ=7"}, Dir: "/tmp", Grace: 5 * time.Second}}},
		{FrameJob, &JobFrame{ID: 8, Spec: job.Spec{Line: "echo a", Argv: []string{"echo", "a"}}}},
		{FrameCancel, &JobRef{ID: 7}},
		{FrameKill, &JobRef{ID: 7}},
		{FrameStarted, &StartedFrame{ID: 7, PID: 1234}},
		{FrameStdout, []byte("out\x00put\n")},
		{FrameStderr, []byte{}},
		{FrameJob, &JobFrame{ID: 9, Spec: job.Spec{Line: "wc -c < a > a.out", Shell: true, Transfer: []string{"/home/u/./a", "b\xff"}, Return: []string{"a.out"}, Cleanup: true}}},
		{FrameFileHeader, &FileHeader{ID: 9, Index: 1, Path: "b\xff", Mode: 0o751, Size: 3 << 20}},
		{FrameFileData, []byte("raw\x00bytes")},
		{FrameFileEnd, &FileEnd{ID: 9, Index: 1, Size: 3 << 20}},
		{FrameFileEnd, &FileEnd{ID: 9, Index: 0, Size: 12, Error: "read a: input/output error"}},
		{FrameOutcome, &OutcomeFrame{ID: 7, Outcome: job.Outcome{ExitCode: 137, Signal: "SIGKILL", Err: job.FromWire("terminated", nil), Start: start, Duration: 1500 * time.Millisecond, MaxRSSKB: 2048, User: time.Millisecond, Sys: 2 * time.Millisecond, Canceled: true}}},
	}
	var buf bytes.Buffer
	fw := NewWriter(&buf)
	for _, f := range frames {
		var err error
		if raw, ok := f.v.([]byte); ok {
			err = fw.Send(f.typ, raw)
		} else {
			err = fw.SendJSON(f.typ, f.v)
		}
		if err != nil {
			t.Fatalf("send %v: %v", f.typ, err)
		}
	}
	fr := NewReader(&buf)
	for _, f := range frames {
		t.Run(f.typ.String(), func(t *testing.T) {
			typ, p, err := fr.Next()
			if err != nil || typ != f.typ {
				t.Fatalf("next = %v, %v; want a %v frame", typ, err, f.typ)
			}
			if raw, ok := f.v.([]byte); ok {
				if !bytes.Equal(p, raw) {
					t.Fatalf("payload %q, want %q", p, raw)
				}
				return
			}
			got := reflect.New(reflect.TypeOf(f.v).Elem())
			if err := Decode(typ, p, got.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Interface(), f.v) {
				t.Fatalf("decoded %+v, want %+v", got.Elem(), reflect.ValueOf(f.v).Elem())
			}
		})
	}
	if _, _, err := fr.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestJobSpecEnvironIsNeverSent(t *testing.T) {
	var buf bytes.Buffer
	if err := NewWriter(&buf).SendJSON(FrameJob, JobFrame{ID: 1, Spec: job.Spec{Line: "x", Environ: []string{"SECRET=1"}}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("Environ went over the wire: %q", buf.String())
	}
}

func TestALongOutputChunkIsSplitIntoFramesOfAtMostMaxFrame(t *testing.T) {
	var buf bytes.Buffer
	big := bytes.Repeat([]byte("x"), MaxFrame+10)
	if err := NewWriter(&buf).Send(FrameStdout, big); err != nil {
		t.Fatal(err)
	}
	fr := NewReader(&buf)
	var got []int
	for {
		typ, p, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil || typ != FrameStdout {
			t.Fatalf("next = %v, %v", typ, err)
		}
		got = append(got, len(p))
	}
	if !reflect.DeepEqual(got, []int{MaxFrame, 10}) {
		t.Fatalf("frame sizes %v, want [%d 10]", got, MaxFrame)
	}
}

// header returns a frame header.
func header(size uint32, typ FrameType) []byte {
	h := make([]byte, 5)
	binary.BigEndian.PutUint32(h, size)
	h[4] = byte(typ)
	return h
}

func TestBadStreamsAreClearErrors(t *testing.T) {
	job := []byte(`{"id":1,"line":"x"}`)
	tests := []struct {
		name   string
		stream []byte
		want   []string // in the error message
		eof    bool     // the error also matches io.ErrUnexpectedEOF
	}{
		{"a header cut short is a truncated frame", header(3, FrameJob)[:3], []string{"truncated frame", "3 of 5 header bytes"}, true},
		{"a payload cut short is a truncated frame", append(header(uint32(len(job)), FrameJob), job[:5]...), []string{"truncated Job frame", "5 of 19 payload bytes"}, true},
		{"a length past MaxFrame is garbled", header(MaxFrame+1, FrameStdout), []string{"garbled frame", "exceeds"}, false},
		{"text where a frame should be is garbled and quoted", []byte("Welcome to host!\n"), []string{"garbled frame", `"Welcome to host!\n"`, "something else writing to the worker's stdout"}, false},
		{"an unknown type is garbled", append(header(2, 0x7f), '{', '}'), []string{"unknown frame type 0x7f"}, false},
		{"a reserved type is garbled", append(header(2, 0x2f), '{', '}'), []string{"unknown frame type 0x2f"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			within(t, "next", func() { _, _, err = NewReader(bytes.NewReader(tt.stream)).Next() })
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want one matching ErrProtocol", err)
			}
			if tt.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", !tt.eof, tt.eof)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestAGarbledPayloadIsAClearError(t *testing.T) {
	stream := append(header(5, FrameHello), []byte("{nope")...)
	var h Hello
	err := NewReader(bytes.NewReader(stream)).NextJSON(FrameHello, &h)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "garbled Hello frame") {
		t.Fatalf("err = %v, want a garbled Hello frame", err)
	}
}

func TestAnUnexpectedFrameTypeIsAClearError(t *testing.T) {
	var buf bytes.Buffer
	_ = NewWriter(&buf).SendJSON(FrameReady, ReadyFrame{})
	var h Hello
	err := NewReader(&buf).NextJSON(FrameHello, &h)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "unexpected Ready frame, want Hello") {
		t.Fatalf("err = %v", err)
	}
}

func TestAnErrorFrameBecomesThePeersError(t *testing.T) {
	var buf bytes.Buffer
	_ = NewWriter(&buf).SendError(errors.New("no thanks"))
	var h Hello
	err := NewReader(&buf).NextJSON(FrameHello, &h)
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Message != "no thanks" {
		t.Fatalf("err = %#v, want the PeerError %q", err, "no thanks")
	}
}

func TestAHelloOfAnotherProtocolVersionIsAMismatch(t *testing.T) {
	h := LocalHello("worker")
	if err := CheckHello(h); err != nil {
		t.Fatalf("our own hello: %v", err)
	}
	h.Protocol = ProtocolVersion + 1
	h.Futures = "v9.9.9"
	err := CheckHello(h)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("err = %v, want ErrProtocol", err)
	}
	for _, w := range []string{"version mismatch", "worker", "v9.9.9", "speaks protocol 2", "speaks protocol 1"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %q, want it to say %q", err, w)
		}
	}
}

func TestAVersionMismatchNamesBothSidesVersions(t *testing.T) {
	defer func(r string) { Release = r }(Release)
	Release = "v1.3.0"
	h := LocalHello("worker")
	h.Protocol, h.Futures, h.PID, h.Hostname = ProtocolVersion+1, "v9.9.9", 42, "node7"
	err := CheckHello(h)
	for _, w := range []string{
		"version mismatch",
		"the worker (futures v9.9.9, pid 42 on node7) speaks protocol 2",
		"this runner (futures v1.3.0, pid ",
		") speaks protocol 1",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want it to say %q", err, w)
		}
	}
	h.Role = "runner"
	if err := CheckHello(h); err == nil || !strings.Contains(err.Error(), "this worker (futures v1.3.0") {
		t.Errorf("a worker's refusal of a runner: %v, want it to name this worker's version", err)
	}
}

func TestFuturesVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		release string
		want    string
	}{
		{"a release tag linked in names the build", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261125043342-3f9ff335c17f"}}, "v1.3.0", "v1.3.0"},
		{"the module version, as go install @version records it", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "", "v1.2.0"},
		{"no module version: devel and the revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3f9ff335c17f8bd21f87"}, {Key: "vcs.modified", Value: "true"}}}, "", "devel-3f9ff335c17f-dirty"},
		{"no module version and no revision: devel", &debug.BuildInfo{}, "", "devel"},
		{"no build info: unknown", nil, "", "unknown"},
		{"no build info but a release tag", nil, "v1.3.0", "v1.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := futuresVersion(tc.bi, tc.release); got != tc.want {
				t.Errorf("futuresVersion = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAFailedWriteIsSticky(t *testing.T) {
	fw := NewWriter(failingWriter{})
	if err := fw.Send(FrameStdout, []byte("x")); err == nil {
		t.Fatal("send to a failing writer: nil error")
	}
	if err := fw.SendJSON(FrameCancel, JobRef{ID: 1}); err == nil {
		t.Fatal("second send: nil error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func BenchmarkJobRoundTripFrames(b *testing.B) {
	var buf bytes.Buffer
	fw := NewWriter(&buf)
	fr := NewReader(&buf)
	spec := job.Spec{Line: "true", Argv: []string{"true"}, Env: []string{"FUTURES_SEQ=1", "FUTURES_SLOT=1", "FUTURES_WORKER=worker_0"}, Grace: 5 * time.Second}
	b.ReportAllocs()
	for i := range b.N {
		_ = fw.SendJSON(FrameJob, JobFrame{ID: uint64(i), Spec: spec})
		_ = fw.SendJSON(FrameOutcome, OutcomeFrame{ID: uint64(i), Outcome: job.Outcome{Start: time.Now(), Duration: time.Millisecond}})
		var job JobFrame
		var out OutcomeFrame
		for _, v := range []any{&job, &out} {
			typ, p, err := fr.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := Decode(typ, p, v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestStringsThatAreNotUTF8CrossTheWireByteForByte(t *testing.T) {
	bad := "caf\xe9 \xff\xfe\x80"
	frames := []struct {
		typ FrameType
		v   any
	}{
		{FrameJob, &JobFrame{ID: 1, Spec: job.Spec{Line: "echo " + bad, Argv: []string{"echo", bad, "ok"}, ShellCmd: []string{"/bin/sh" + bad, "-c"}, Env: []string{"X=" + bad}, Dir: "/tmp/" + bad}}},
		{FrameInit, &InitFrame{Name: "w" + bad, Initializer: "export X=" + bad, Shell: []string{bad}, Env: []string{bad}}},
		{FrameReady, &ReadyFrame{Error: bad, Stderr: bad, Dir: bad}},
		{FrameOutcome, &OutcomeFrame{ID: 2, Outcome: job.Outcome{Err: job.FromWire(bad+": command not found", []string{"not_found"}), ExitCode: 127}}},
	}
	for _, f := range frames {
		t.Run(f.typ.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewWriter(&buf).SendJSON(f.typ, f.v); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), `{"b64":"`) {
				t.Errorf("no base64 form in %q", buf.String())
			}
			got := reflect.New(reflect.TypeOf(f.v).Elem())
			if err := NewReader(&buf).NextJSON(f.typ, got.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Interface(), f.v) {
				t.Fatalf("decoded %+v, want %+v", got.Elem(), reflect.ValueOf(f.v).Elem())
			}
		})
	}
}

func TestValidUTF8StaysPlainJSON(t *testing.T) {
	var buf bytes.Buffer
	_ = NewWriter(&buf).SendJSON(FrameJob, JobFrame{ID: 3, Spec: job.Spec{Line: "echo café ✓", Argv: []string{"echo", "café ✓"}, Grace: time.Second}})
	want := `{"id":3,"line":"echo café ✓","argv":["echo","café ✓"],"grace_ns":1000000000}`
	if got := buf.String()[5:]; got != want {
		t.Fatalf("payload %s, want %s", got, want)
	}
}

// TestOutcomeErrorKindsCrossTheWire: the runner tells a job's errors by
// errors.Is on the sentinels of package job, not by their text, whichever
// JSON path the Outcome frame takes.
func TestOutcomeErrorKindsCrossTheWire(t *testing.T) {
	sent := OutcomeFrame{ID: 1, Outcome: job.Outcome{ExitCode: 127, Refused: syscall.EAGAIN,
		Err: errors.Join(fmt.Errorf("nope: %w", job.ErrNotFound), fmt.Errorf("%w; stopped", job.ErrHeldOutput))}}
	var buf bytes.Buffer
	if err := NewWriter(&buf).SendJSON(FrameOutcome, sent); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte(nil), buf.Bytes()[5:]...)
	var fast, slow OutcomeFrame
	if err := NewReader(&buf).NextJSON(FrameOutcome, &fast); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &slow); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]OutcomeFrame{"fast path": fast, "encoding/json": slow} {
		if got.Err == nil || got.Err.Error() != sent.Err.Error() {
			t.Errorf("%s: error %v, want %q", name, got.Err, sent.Err)
		}
		if !errors.Is(got.Err, job.ErrNotFound) || !errors.Is(got.Err, job.ErrHeldOutput) || errors.Is(got.Err, job.ErrNotExecutable) {
			t.Errorf("%s: %v lost its kinds: not found %v, held output %v", name, got.Err,
				errors.Is(got.Err, job.ErrNotFound), errors.Is(got.Err, job.ErrHeldOutput))
		}
		if got.Refused != syscall.EAGAIN {
			t.Errorf("%s: refused %v, want EAGAIN", name, got.Refused)
		}
	}
}
