package service

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// patience bounds every wait in these tests; it is a hang detector, never
// the thing under test.
const patience = 30 * time.Second

// logLines is a log.Logger's writer that hands each line to a channel, so
// a test can wait for a log line as an event.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	select {
	case l <- strings.TrimSpace(string(p)):
	default: // nobody waiting and the buffer is full: drop it
	}
	return len(p), nil
}

// waitLog waits for a line containing want.
func (l logLines) waitLog(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case line := <-l:
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			t.Fatalf("no log line with %q after %v", want, patience)
		}
	}
}

type testService struct {
	paths Paths
	srv   *Server
	log   logLines
}

// serve starts a service named name in a temporary directory and stops it
// when the test ends.
func serve(t *testing.T, name string, opts Options) *testService {
	t.Helper()
	ts := &testService{paths: testPaths(t, name), log: make(logLines, 100)}
	opts.Log = log.New(ts.log, "", 0)
	if opts.Version == "" {
		opts.Version = "test"
	}
	ln, err := Listen(ts.paths, opts.Log)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = NewServer(ts.paths, opts)
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return c
}

// good checks that the service answers GET /v1/service on a new client.
func (ts *testService) good(t *testing.T) {
	t.Helper()
	c := Dial(ts.paths)
	defer c.Close()
	info, err := c.Service(ctx(t))
	if err != nil {
		t.Fatalf("the next good request failed: %v", err)
	}
	if info.Name != ts.paths.Name {
		t.Fatalf("the next good request: name %q, want %q", info.Name, ts.paths.Name)
	}
}

// raw connects to the socket, writes what, and returns everything read
// until the server closes the connection.
func (ts *testService) raw(t *testing.T, what string, closeWrite bool) string {
	t.Helper()
	c, err := net.Dial("unix", ts.paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	if what != "" {
		if _, err := io.WriteString(c, what); err != nil {
			t.Fatal(err)
		}
	}
	if closeWrite {
		c.(*net.UnixConn).CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset by peer") {
		t.Fatalf("reading until the server closes: %v (got %q)", err, b)
	}
	return string(b)
}

func TestServiceEndToEnd(t *testing.T) {
	ts := serve(t, "e2e", Options{Version: "v9.9.9"})
	c := Dial(ts.paths)
	defer c.Close()
	info, err := c.Service(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := ts.srv.Info()
	if info != want {
		t.Fatalf("GET /v1/service = %+v, want %+v", info, want)
	}
	if info.PID != os.Getpid() || info.Version != "v9.9.9" || info.Socket != ts.paths.Socket || info.StateDir != ts.paths.StateDir || info.Started.IsZero() {
		t.Fatalf("GET /v1/service = %+v", info)
	}
	// Raw HTTP, as curl --unix-socket sends it.
	got := ts.raw(t, "GET /v1/service HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", false)
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.Contains(got, "Content-Type: application/json") || !strings.Contains(got, `"name":"e2e"`) || !strings.Contains(got, `"state_dir":`) {
		t.Fatalf("raw GET /v1/service answered %q", got)
	}
}

func TestSocketIsPrivate(t *testing.T) {
	ts := serve(t, "modes", Options{})
	fi, err := os.Lstat(ts.paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: mode %v, want a socket with 0600", ts.paths.Socket, fi.Mode())
	}
	for _, d := range []string{ts.paths.RuntimeDir, ts.paths.StateDir} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %04o, want 0700", d, fi.Mode().Perm())
		}
	}
}

func TestErrorsAreJSON(t *testing.T) {
	ts := serve(t, "errs", Options{})
	c := Dial(ts.paths)
	defer c.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		msg          string
	}{
		{"GET", "/v1/nothing", 404, "no endpoint /v1/nothing"},
		{"DELETE", "/v1/service", 405, "DELETE /v1/service is not allowed (allowed: GET)"},
	} {
		err := c.Do(ctx(t), tc.method, tc.path, nil, nil)
		var e *Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Message != tc.msg {
			t.Errorf("%s %s: %#v, want *Error{%d, %q}", tc.method, tc.path, err, tc.status, tc.msg)
		}
	}
	got := ts.raw(t, "GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false)
	if !strings.HasPrefix(got, "HTTP/1.1 404") || !strings.HasSuffix(got, "{\"error\":\"no endpoint /v1/nothing\"}\n") {
		t.Errorf("raw 404: %q", got)
	}
}

func TestClientSaysNoServiceRunning(t *testing.T) {
	p := testPaths(t, "absent")
	_, err := Dial(p).Service(ctx(t))
	want := "no service absent running (socket " + p.Socket + ")"
	if !errors.Is(err, ErrNotRunning) || err.Error() != want {
		t.Fatalf("no socket: %v, want ErrNotRunning saying %q", err, want)
	}
	// A stale socket says the same.
	makeStale(t, p)
	_, err = Dial(p).Service(ctx(t))
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), want) {
		t.Fatalf("stale socket: %v, want ErrNotRunning saying %q", err, want)
	}
}

// Each malformed connection is closed, and the service goes on serving
// the next good request. The header timeout closes the client that sends
// nothing; it also runs from a good client's connect to its request, so
// it is long enough for a loaded machine (200 ms was not: a client that
// ran 250 ms late between its connect and its write found the connection
// closed).
func TestMalformedConnectionsCloseOnlyThemselves(t *testing.T) {
	ts := serve(t, "bad", Options{ReadHeaderTimeout: 2 * time.Second, MaxBodyBytes: 1 << 10})
	ts.srv.Handle("POST", "/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		var v struct{ S string }
		if err := DecodeRequest(w, r, &v, 0); err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, 200, v)
	})
	big := strings.Repeat("x", 2<<10)
	for _, tc := range []struct {
		desc       string
		send       string
		closeWrite bool
		want       string // prefix of what the server answers before it closes; "" for nothing
	}{
		{"garbage bytes", "\x00\xff\x16\x03\x01 garbage\r\n\r\n", false, "HTTP/1.1 400 Bad Request"},
		{"a truncated request line", "GET /v1/serv", true, "HTTP/1.1 400 Bad Request"},
		{"truncated headers", "GET /v1/service HTTP/1.1\r\nHost: x\r\n", true, "HTTP/1.1 400 Bad Request"},
		{"a truncated body", "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"S\":", true, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json"},
		{"an oversized body by Content-Length", "POST /v1/service HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" + big, false, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Type: application/json"},
		{"an oversized chunked body", "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n{\"S\":\"" + big[:2042] + "\"}\r\n0\r\n\r\n", false, "HTTP/1.1 413 Request Entity Too Large"},
		{"oversized headers", "GET /v1/service HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("h", 128<<10) + "\r\n\r\n", false, "HTTP/1.1 431"},
		{"a client that sends nothing", "", false, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := ts.raw(t, tc.send, tc.closeWrite)
			if (tc.want == "" && got != "") || !strings.HasPrefix(got, tc.want) {
				t.Errorf("answered %q, want it to start with %q", got, tc.want)
			}
			if strings.Contains(got, "200 OK") {
				t.Errorf("a malformed request was served: %q", got)
			}
			ts.good(t)
		})
	}
	// The decoder's limit answers 413 as JSON through the client too.
	err := Dial(ts.paths).Do(ctx(t), "POST", "/v1/echo", map[string]string{"S": big}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != 413 || !strings.Contains(e.Message, "1024") {
		t.Fatalf("oversized body through the client: %#v, want a 413 *Error naming the limit", err)
	}
}

// A kept-alive connection whose next request is garbage is closed; the
// requests before it were served.
func TestKeepAliveThenGarbage(t *testing.T) {
	ts := serve(t, "keep", Options{})
	c, err := net.Dial("unix", ts.paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	io.WriteString(c, "GET /v1/service HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	io.WriteString(c, "NOT HTTP AT ALL\r\n\r\n")
	rest, _ := io.ReadAll(br)
	if !strings.HasPrefix(string(rest), "HTTP/1.1 400") {
		t.Fatalf("after garbage: %q", rest)
	}
	ts.good(t)
}

// Shutdown removes the socket, leaves no goroutine behind, and a client
// then says no service runs.
func TestShutdownRemovesSocket(t *testing.T) {
	before := runtime.NumGoroutine()
	p := testPaths(t, "down")
	ln, err := Listen(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(p, Options{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c := Dial(p)
	if _, err := c.Service(ctx(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := srv.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Lstat(p.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Shutdown: %v", err)
	}
	if _, err := Dial(p).Service(ctx(t)); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after Shutdown: %v, want ErrNotRunning", err)
	}
	// Connection goroutines end after their connections close; wait for
	// the count to come back, a hang detector bounding the wait.
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Shutdown, %d before", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
	}
}
