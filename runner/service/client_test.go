package service

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClosingAnAttachmentDoesNotWaitForItsAnswerToEnd: the attachment's
// answer is held open by the service until the run detaches; closing it
// on the client closes the connection rather than reading the answer to
// its end (which never comes), and a cancelled context ends a call.
func TestClosingAnAttachmentDoesNotWaitForItsAnswerToEnd(t *testing.T) {
	p := testPaths(t, "attclose")
	runService(t, p)
	a, err := AttachRun(context.Background(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second): // a hang detector only
		t.Fatal("Attached.Close waited for the held answer to end")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(p).Service(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a call with a cancelled context: %v, want context.Canceled", err)
	}
}

// A request whose body the service refuses before reading it (413: larger
// than MaxBodyBytes by its Content-Length) gets that answer, not the
// broken pipe of the rest of its body, which the service closed on: a
// submit too large must not look like one lost to a dying service
// (cmd/detach.go lostSubmit).
func TestAnAnswerBeforeTheWholeBodyIsSentIsTheAnswer(t *testing.T) {
	ts := serve(t, "early", Options{MaxBodyBytes: 1 << 10})
	// Far more than the socket buffers hold: the service answers and
	// closes while the client is still writing.
	big := strings.Repeat("x", 4<<20)
	for _, path := range []string{"/v1/service", "/v1/nowhere"} {
		err := Dial(ts.paths).Do(ctx(t), http.MethodPost, path, map[string]string{"S": big}, nil)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s of %d bytes: %v, want the service's 413", path, len(big), err)
		}
	}
}

// A connection that breaks after the request went out (the service died
// as it read it, or once it had read it) is an error that is neither
// ErrNotRunning nor an answer: cmd/detach.go then looks in the store for
// what the service committed. Only a dial that finds nobody is
// ErrNotRunning.
func TestABrokenConnectionIsNotNotRunning(t *testing.T) {
	p := testPaths(t, "broken")
	if err := Dial(p).Do(ctx(t), http.MethodGet, "/v1/service", nil, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no socket: %v, want ErrNotRunning", err)
	}
	ln := listenAt(t, p)
	for _, tc := range []struct {
		desc string
		read int64 // bytes read before the service dies; -1: the whole request
	}{{"dies having read part of the body", 64 << 10}, {"dies having read it all", -1}} {
		t.Run(tc.desc, func(t *testing.T) {
			served := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					served <- err
					return
				}
				defer c.Close()
				if tc.read >= 0 {
					_, err = io.CopyN(io.Discard, c, tc.read)
				} else if req, rerr := http.ReadRequest(bufio.NewReader(c)); rerr != nil {
					err = rerr
				} else {
					_, err = io.Copy(io.Discard, req.Body)
				}
				served <- err
			}()
			err := Dial(p).Do(ctx(t), http.MethodPost, "/v1/submit", map[string]string{"S": strings.Repeat("x", 4<<20)}, nil)
			if serr := <-served; serr != nil {
				t.Fatalf("the dying service: %v", serr)
			}
			var answer *Error
			if err == nil || errors.Is(err, ErrNotRunning) || errors.As(err, &answer) {
				t.Errorf("got %v, want a broken connection: neither ErrNotRunning nor an answer", err)
			}
		})
	}
}

// A call whose context ends while it waits for the answer's head, or
// reads its body, returns the context's error at once and closes its
// connection (the service sees its request go away: an Acquire's slot is
// not granted to nobody).
func TestACancelledCallEndsAndClosesItsConnection(t *testing.T) {
	p := testPaths(t, "cancel")
	ln := listenAt(t, p)
	for _, tc := range []struct{ desc, answer string }{
		{"waiting for the head", ""},
		{"reading the body", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Name\":"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			received := make(chan struct{})
			closed := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					close(received)
					closed <- err
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				_, err = http.ReadRequest(br)
				if err == nil {
					_, err = io.WriteString(c, tc.answer)
				}
				close(received)
				if err == nil {
					_ = c.SetReadDeadline(time.Now().Add(patience))
					// The client's close: EOF, or a reset when
					// it closed with the answer unread.
					_, err = br.ReadByte()
					if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
						err = nil
					}
				}
				closed <- err
			}()
			cctx, cancel := context.WithCancel(ctx(t))
			go func() { <-received; cancel() }()
			if _, err := Dial(p).Service(cctx); !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("the service's end of the connection: %v, want it closed by the client", err)
			}
		})
	}
}

// listenAt listens on p's socket, as a service would, for a test that
// plays the service's part by hand; the listener closes with the test.
func listenAt(t *testing.T, p Paths) net.Listener {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p.Socket), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
