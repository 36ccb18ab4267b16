package service

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

// Info is what GET /v1/service answers: which service this is and where
// it lives. `futures start` polls it to know the service accepts work.
type Info struct {
	Name     string    `json:"name"`
	PID      int       `json:"pid"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Socket   string    `json:"socket"`
	StateDir string    `json:"state_dir"`
	// Workers is how many jobs the service runs at once (-j).
	Workers int `json:"workers"`
	// Settings are the pool flags it was started with ("" for none).
	Settings string `json:"settings,omitempty"`
}

// Options tune a Server. A zero field takes the default named beside it.
type Options struct {
	// ReadHeaderTimeout bounds reading a request's headers, from the
	// connection's start or the end of the previous request: a client
	// that connects and sends nothing is closed after it. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Default
	// 30s. A handler that then waits long (a long poll) clears the read
	// deadline with http.NewResponseController(w).SetReadDeadline(time.Time{})
	// once it has read its body, or net/http cancels its request context
	// when the deadline passes.
	ReadTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends no next
	// request. Default 2m.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header block. Default 64 KiB.
	MaxHeaderBytes int
	// MaxBodyBytes bounds every request body; a larger one gets 413 and
	// its connection closed. DecodeRequest may set a smaller limit.
	// Default 4 MiB.
	MaxBodyBytes int64
	// Version and Workers are what GET /v1/service reports.
	Version  string
	Workers  int
	Settings string
	// Log receives what the server refuses or fails at (refused peers,
	// malformed connections); nil discards it.
	Log *log.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.IdleTimeout, 2*time.Minute)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	return o
}

// Server is the service's HTTP server: net/http with its timeouts and
// size limits set, every error answered as JSON {"error": "..."}, and a
// small route table (method and exact path) that later endpoints join
// with Handle. It serves GET /v1/service itself.
type Server struct {
	info   Info
	opts   Options
	routes map[string]map[string]http.HandlerFunc // path → method → handler; written before Serve only
	http   *http.Server

	// mu guards fresh and closing.
	mu sync.Mutex
	// fresh are the connections that have sent no request yet
	// (http.StateNew): Shutdown closes them rather than wait for them.
	fresh   map[net.Conn]struct{}
	closing bool
}

// NewServer returns a server for the service at p; Serve starts it.
func NewServer(p Paths, opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		info: Info{
			Name:     p.Name,
			PID:      os.Getpid(),
			Version:  opts.Version,
			Started:  time.Now().UTC().Truncate(time.Millisecond),
			Socket:   p.Socket,
			StateDir: p.StateDir,
			Workers:  opts.Workers,
			Settings: opts.Settings,
		},
		opts:   opts,
		routes: map[string]map[string]http.HandlerFunc{},
		fresh:  map[net.Conn]struct{}{},
	}
	s.http = &http.Server{
		Handler:           s,
		ConnState:         s.connState,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          opts.Log,
	}
	if opts.Log == nil {
		s.http.ErrorLog = log.New(discard{}, "", 0)
	}
	s.Handle(http.MethodGet, "/v1/service", s.serveInfo)
	return s
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Info returns what GET /v1/service answers.
func (s *Server) Info() Info { return s.info }

// Handle routes method and path (exact, no patterns) to h. Call it before
// Serve.
func (s *Server) Handle(method, path string, h http.HandlerFunc) {
	if s.routes[path] == nil {
		s.routes[path] = map[string]http.HandlerFunc{}
	}
	s.routes[path][method] = h
}

// Serve serves HTTP on ln (from Listen) until Shutdown or Close; like
// http.Server.Serve it returns http.ErrServerClosed after them.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Shutdown stops accepting, closes the connections that have sent no
// request (net/http would wait up to 5 s for each, so a client that
// connects and sends nothing would hold up the service's exit), waits for
// requests in flight until ctx is done, and closes the listener (which
// removes the socket).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	n := len(s.fresh)
	for c := range s.fresh {
		c.Close()
	}
	clear(s.fresh)
	s.mu.Unlock()
	if n > 0 && s.opts.Log != nil {
		s.opts.Log.Printf("shutting down: closed %d connection(s) that had sent no request", n)
	}
	return s.http.Shutdown(ctx)
}

// connState keeps fresh: the connections that have sent no request yet;
// one that arrives while the server shuts down is closed at once.
func (s *Server) connState(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case state == http.StateNew && s.closing:
		c.Close()
	case state == http.StateNew:
		s.fresh[c] = struct{}{}
	default:
		delete(s.fresh, c)
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.http.Close() }

// ServeHTTP routes r, after bounding its body: a body announced larger
// than MaxBodyBytes gets 413 at once, and one that grows past it fails
// its reader (DecodeRequest answers 413).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.opts.MaxBodyBytes {
		w.Header().Set("Connection", "close")
		WriteError(w, &Error{Status: http.StatusRequestEntityTooLarge,
			Message: "request body of " + itoa(r.ContentLength) + " bytes is larger than the limit of " + itoa(s.opts.MaxBodyBytes) + " bytes"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	methods, ok := s.routes[r.URL.Path]
	if !ok {
		WriteError(w, &Error{Status: http.StatusNotFound, Message: "no endpoint " + r.URL.Path})
		return
	}
	h, ok := methods[r.Method]
	if !ok {
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		sort.Strings(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Message: r.Method + " " + r.URL.Path + " is not allowed (allowed: " + strings.Join(allow, ", ") + ")"})
		return
	}
	h(w, r)
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.info)
}

// Error is an error with the HTTP status it is answered with. On the wire
// it is {"error": Message}; the client returns it as *Error with Status
// set from the response.
type Error struct {
	Status  int
	Message string
	// Code, when not "", names the sentinel the error stands for
	// ("shutdown", "no_future", "deadlock"): errors.Is matches it.
	Code string
}

func (e *Error) Error() string { return e.Message }

// Is matches the sentinel that e's Code names, so that a client's error
// is errors.Is(err, ErrShutdown) as the service's was.
func (e *Error) Is(target error) bool {
	switch e.Code {
	case codeShutdown:
		return target == ErrShutdown
	case codeNoFuture:
		return target == store.ErrNoFuture
	case codeDeadlock:
		return target == ErrDeadlock
	}
	return false
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// WriteError answers err as JSON {"error": "..."}: with its status when
// it is (or wraps) an *Error, else 500.
func WriteError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var e *Error
	code := ""
	if errors.As(err, &e) {
		status, code = e.Status, e.Code
	}
	WriteJSON(w, status, errorBody{Error: err.Error(), Code: code})
}

// WriteJSON answers v as JSON with status, and reports whether the
// answer was written whole (false: the client went away).
func WriteJSON(w http.ResponseWriter, status int, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err == nil
}
