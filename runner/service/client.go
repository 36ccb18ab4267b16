package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning is wrapped by a client's error when no service listens on
// the socket: no socket file, or a stale one.
var ErrNotRunning = errors.New("no service running")

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// Client talks to the service at Paths over its unix socket: HTTP/1.1
// with JSON bodies, a connection per call. Its methods take a context for
// their deadline; it is safe for concurrent use.
type Client struct {
	paths Paths
	http  *http.Client
}

// Dial returns a client for the service at p. It connects at each call;
// when nothing listens on the socket each call fails with an error
// wrapping ErrNotRunning that says "no service NAME running (socket PATH)".
func Dial(p Paths) *Client {
	tr := &unixTransport{socket: p.Socket, dialer: net.Dialer{Timeout: 10 * time.Second}}
	return &Client{paths: p, http: &http.Client{Transport: tr}}
}

// unixTransport is the client's http.RoundTripper: a connection to the
// socket per request, closed with the response's body. http.Transport
// keeps a pool of idle connections and runs a reader and a writer
// goroutine per connection; a command of futures makes one call or a few
// and exits, and setting that machinery up and tearing it down was a good
// part of the cost of a `submit --detach` call. A connection on a unix
// socket costs a few microseconds.
type unixTransport struct {
	socket string
	dialer net.Dialer
}

// RoundTrip sends req on a new connection and reads the head of its
// answer; the body is read from the connection, which closes with it.
// The request's context cancels all of it, the body's reads included.
func (t *unixTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	conn, err := t.dialer.DialContext(ctx, "unix", t.socket)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// A cancelled context ends a blocked read or write at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		conn.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	w := &sendConn{Writer: conn}
	if werr := req.Write(w); werr != nil {
		// The service may have answered before it read the whole body,
		// then closed its end (413: a body larger than it takes): that
		// answer is in the socket and is the answer, as http.Transport,
		// which reads while it writes, would have returned it. Reading
		// it cannot block: the other end is closed. A service that died
		// left no answer, and the write's error stands (a connection
		// broken after sending, not ErrNotRunning).
		if ctx.Err() != nil || !(errors.Is(w.err, syscall.EPIPE) || errors.Is(w.err, syscall.ECONNRESET)) {
			return fail(werr)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			return fail(werr)
		}
		resp.Body = &connBody{ReadCloser: resp.Body, ctx: ctx, conn: conn, stop: stop}
		return resp, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &connBody{ReadCloser: resp.Body, ctx: ctx, conn: conn, stop: stop}
	return resp, nil
}

// sendConn is a connection as a request is written to it: it keeps the
// first error of its writes, which req.Write may return wrapped where
// errors.Is cannot see it (a body that writes itself, bytes.Reader's
// WriteTo, has its write errors reported as its read errors).
type sendConn struct {
	io.Writer
	err error
}

func (w *sendConn) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// connBody is a response's body, read from its connection, which Close
// closes.
type connBody struct {
	io.ReadCloser
	ctx  context.Context
	conn net.Conn
	stop func() bool
	once sync.Once
}

// Read reads the body; when the request's context ended the read, its
// error says so.
func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr
		}
	}
	return n, err
}

// Close closes the body and its connection, without reading the rest.
func (b *connBody) Close() error {
	var err error
	b.once.Do(func() {
		b.stop()
		// The connection first: the body's Close reads what is left of
		// it, which a held-open answer (attach) never ends.
		err = b.conn.Close()
		b.ReadCloser.Close()
	})
	return err
}

// Close releases what the client holds: nothing between calls, today; a
// call's connection closes with its answer.
func (c *Client) Close() {}

// Service asks the service who it is (GET /v1/service).
func (c *Client) Service(ctx context.Context) (Info, error) {
	var info Info
	err := c.Do(ctx, http.MethodGet, "/v1/service", nil, &info)
	return info, err
}

// Do sends a request with in (nil: no body) encoded as JSON and decodes
// a 2xx answer into out (nil: discarded). An error answer is returned as
// *Error with its status and message; a service that is not there as an
// error wrapping ErrNotRunning.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	// The host is a name for curl's sake; the transport dials the socket.
	req, err := http.NewRequestWithContext(ctx, method, "http://futures"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if notRunning(err) {
			return &notRunningError{c.paths}
		}
		return fmt.Errorf("service %s (socket %s): %s %s: %w", c.paths.Name, c.paths.Socket, method, path, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode/100 != 2 {
		var e errorBody
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("service %s: %s %s: %s", c.paths.Name, method, path, resp.Status)}
		}
		return &Error{Status: resp.StatusCode, Message: e.Error, Code: e.Code}
	}
	if out == nil {
		return nil
	}
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("service %s: %s %s: decoding the answer: %w", c.paths.Name, method, path, err)
	}
	return nil
}

// notRunning reports whether a dial error means nobody listens: no socket
// file (ENOENT, or its directory missing) or a stale one (ECONNREFUSED).
func notRunning(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return false
	}
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist)
}

// notRunningError says which service is not running and where it was
// looked for; it is ErrNotRunning to errors.Is.
type notRunningError struct{ p Paths }

func (e *notRunningError) Error() string {
	return fmt.Sprintf("no service %s running (socket %s)", e.p.Name, e.p.Socket)
}

func (e *notRunningError) Is(target error) bool { return target == ErrNotRunning }
