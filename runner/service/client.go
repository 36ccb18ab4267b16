package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// ErrNotRunning is wrapped by a client's error when no service listens on
// the socket: no socket file, or a stale one.
var ErrNotRunning = errors.New("no service running")

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// Client talks to the service at Paths over its unix socket: HTTP/1.1
// with JSON bodies, connections kept alive between calls. Its methods
// take a context for their deadline; it is safe for concurrent use.
type Client struct {
	paths Paths
	http  *http.Client
}

// Dial returns a client for the service at p. It connects lazily, at the
// first call, as http.Client does; when nothing listens on the socket
// each call fails with an error wrapping ErrNotRunning that says
// "no service NAME running (socket PATH)".
func Dial(p Paths) *Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", p.Socket)
		},
		MaxIdleConns:           4,
		IdleConnTimeout:        time.Minute,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Client{paths: p, http: &http.Client{Transport: tr}}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

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
