package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/job"
)

// FuzzFastJSONEncoding checks that appendJSON writes, byte for byte, what
// encoding/json writes for the Job, Started and Outcome frames.
func FuzzFastJSONEncoding(f *testing.F) {
	f.Add(uint64(1), "true", "true", "", false, "FUTURES_SEQ=1", "", int64(5e9), 0, "", "", int64(1700000000123456789), int64(0))
	f.Add(uint64(7), `echo "a b" | wc -c <in >out && x`, "", "/bin/sh", true, "A=\n\t\x01\u2028é", "/tmp/dir", int64(0), 137, "SIGKILL", "caf\xe9: not found", int64(-1), int64(3))
	f.Add(uint64(1<<63), "\xff\xfe", "\x80", "-c", false, "", "\xe2\x80", int64(-5), -1, "\xff", "</script>&", int64(0), int64(1<<40))
	f.Fuzz(func(t *testing.T, id uint64, line, arg, shell string, useShell bool, env, dir string, grace int64,
		code int, signal, errText string, startNS, n int64) {
		frames := []any{
			JobFrame{ID: id, Spec: job.Spec{Line: line, Argv: nonEmpty(arg, line), Shell: useShell, ShellCmd: nonEmpty(shell, "-c"),
				Env: nonEmpty(env), Dir: dir, Grace: time.Duration(grace), Refusable: useShell}},
			StartedFrame{ID: id, PID: code},
			OutcomeFrame{ID: id, Outcome: job.Outcome{ExitCode: code, Signal: signal, Err: fuzzErr(errText, code),
				Start: time.Unix(0, startNS).In(time.FixedZone("", int(n%86400))), Duration: time.Duration(grace),
				MaxRSSKB: n, User: time.Duration(n / 2), Sys: time.Duration(-n), Canceled: useShell, Refused: syscall.Errno(uint8(n))}},
		}
		for _, v := range frames {
			want, werr := json.Marshal(v)
			got := v.(jsonAppender).appendJSON(nil)
			if werr != nil {
				if got != nil {
					t.Fatalf("%T: appendJSON wrote %s where encoding/json fails: %v", v, got, werr)
				}
				continue
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%T:\nappendJSON    %s\nencoding/json %s", v, got, want)
			}
		}
	})
}

// fuzzErr is an error with text, wrapping none, one or two of the
// sentinels of package job, as k says; nil for "".
func fuzzErr(text string, k int) error {
	switch {
	case text == "":
		return nil
	case k%4 == 1:
		return fmt.Errorf("%s: %w", text, job.ErrNotFound)
	case k%4 == 2:
		return fmt.Errorf("%s: %w", text, job.ErrNotExecutable)
	case k%4 == 3:
		return errors.Join(errors.New(text), fmt.Errorf("%w; stopped", job.ErrHeldOutput), job.ErrNotFound)
	}
	return errors.New(text)
}

// nonEmpty returns the non-empty strings among ss, nil if none.
func nonEmpty(ss ...string) []string {
	var v []string
	for _, s := range ss {
		if s != "" {
			v = append(v, s)
		}
	}
	return v
}

// FuzzFastJSONDecoding checks that decodeFast, where it does not give up,
// decodes what encoding/json decodes, and nothing that encoding/json
// refuses.
func FuzzFastJSONDecoding(f *testing.F) {
	for _, v := range []any{
		JobFrame{ID: 3, Spec: job.Spec{Line: `sh -c 'echo "$1"' _ x`, Argv: []string{"sh", "-c", `echo "$1"`, "_", "x"}, Env: []string{"FUTURES_SEQ=3"}, Grace: time.Second}},
		JobFrame{ID: 4, Spec: job.Spec{Line: "caf\xe9", Shell: true, ShellCmd: []string{"/bin/sh", "-c"}, Dir: "/tmp"}},
		JobFrame{ID: 5, Spec: job.Spec{Line: "true", Argv: []string{"true"}, Refusable: true}},
		StartedFrame{ID: 3, PID: 4242},
		OutcomeFrame{ID: 5, Outcome: job.Outcome{ExitCode: -1, Err: errors.New("true: too many open files"), Refused: syscall.EMFILE}},
		OutcomeFrame{ID: 6, Outcome: job.Outcome{ExitCode: 127, Err: fmt.Errorf("nope: %w", job.ErrNotFound)}},
		OutcomeFrame{ID: 3, Outcome: job.Outcome{ExitCode: 1, Signal: "SIGTERM", Err: errors.New("x\ny"), Start: time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC), Duration: time.Millisecond, MaxRSSKB: 2048, User: 1, Sys: 2, Canceled: true}},
	} {
		p, _ := json.Marshal(v)
		f.Add(p)
	}
	f.Add([]byte(`{"id":1,"ID":2}`))
	f.Add([]byte(`{"id":01}`))
	f.Add([]byte(`{"id":-0,"pid":-0,"exit_code":1e2}`))
	f.Add([]byte(`{"argv":[],"env":null,"line":"\u00e9\ud83d\ude00"}`))
	f.Add([]byte(`{"start":"2025-01-02T03:04:05+01:00","error":{"b64":"/w=="}} `))
	f.Add([]byte(`{"error":"x","error_kinds":["held_output","no_such_kind"],"refused":"EAGAIN"}`))
	f.Add([]byte(`{"error_kinds":[],"refused":"EBADF"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, newV := range []func() any{
			func() any { return &JobFrame{} },
			func() any { return &StartedFrame{} },
			func() any { return &OutcomeFrame{} },
		} {
			fast, ref := newV(), newV()
			if !fast.(fastDecoder).decodeFast(p) {
				if !reflect.DeepEqual(fast, newV()) {
					t.Fatalf("%T: decodeFast gave up on %q but changed the value: %+v", fast, p, fast)
				}
				continue
			}
			if err := json.Unmarshal(p, ref); err != nil {
				t.Fatalf("%T: decodeFast took %q, which encoding/json refuses: %v", fast, p, err)
			}
			if o, ok := fast.(*OutcomeFrame); ok { // the same instant and offset, not the same *Location
				r := ref.(*OutcomeFrame)
				_, fo := o.Start.Zone()
				_, ro := r.Start.Zone()
				if !o.Start.Equal(r.Start) || fo != ro {
					t.Fatalf("%q: start %v, encoding/json %v", p, o.Start, r.Start)
				}
				o.Start, r.Start = time.Time{}, time.Time{}
			}
			if !reflect.DeepEqual(fast, ref) {
				t.Fatalf("%T from %q:\ndecodeFast    %+v\nencoding/json %+v", fast, p, fast, ref)
			}
		}
	})
}

// TestTheHotFramesTakeTheFastPath: the frames this package writes for a
// job are decoded without encoding/json.
func TestTheHotFramesTakeTheFastPath(t *testing.T) {
	for _, v := range []any{
		JobFrame{ID: 9, Spec: job.Spec{Line: `printf '%s\n' "a b"`, Shell: true, Env: []string{"FUTURES_SEQ=9", "FUTURES_SLOT=1", "FUTURES_WORKER=worker_0"}, Grace: 5 * time.Second}},
		StartedFrame{ID: 9, PID: 77},
		OutcomeFrame{ID: 9, Outcome: job.Outcome{ExitCode: 2, Start: time.Now(), Duration: time.Millisecond, MaxRSSKB: 1500, User: 300, Sys: 400}},
		OutcomeFrame{ID: 10, Outcome: job.Outcome{ExitCode: -1, Start: time.Now(), Err: job.FromWire("x: command not found", []string{"not_found"}), Refused: syscall.ENFILE}},
	} {
		p, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(reflect.TypeOf(v))
		if !got.Interface().(fastDecoder).decodeFast(p) {
			t.Fatalf("%T: decodeFast gave up on %s", v, p)
		}
		if o, ok := got.Interface().(*OutcomeFrame); ok {
			want := v.(OutcomeFrame)
			if !o.Start.Equal(want.Start) {
				t.Fatalf("start %v, want %v", o.Start, want.Start)
			}
			o.Start, want.Start = time.Time{}, time.Time{}
			v = want
		}
		if !reflect.DeepEqual(got.Elem().Interface(), v) {
			t.Fatalf("decoded %+v, want %+v", got.Elem(), v)
		}
	}
}

func BenchmarkHotFramesJSON(b *testing.B) {
	jf := JobFrame{ID: 1, Spec: job.Spec{Line: "true", Argv: []string{"true"}, Env: []string{"FUTURES_SEQ=1", "FUTURES_SLOT=1", "FUTURES_WORKER=worker_0"}, Grace: 5 * time.Second}}
	out := OutcomeFrame{ID: 1, Outcome: job.Outcome{Start: time.Now(), Duration: time.Millisecond, MaxRSSKB: 1234, User: 1000, Sys: 2000}}
	started := StartedFrame{ID: 1, PID: 4321}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range []any{jf, started, out} {
			p, err := marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			if err := Decode(FrameJob, p, reflect.New(reflect.TypeOf(v)).Interface()); err != nil {
				b.Fatal(err)
			}
		}
	}
}
