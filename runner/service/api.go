package service

import (
	"context"
	"errors"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

// The endpoints of the futures (docs/service.md, "Protocol"). Reads of a
// future's state and output do not need the service: clients read the
// store (so they work after shutdown); these are what only the service
// can do: take futures, run them, stop them and wake their waiters.
const (
	SubmitPath   = "/v1/submit"
	WaitPath     = "/v1/wait"
	CancelPath   = "/v1/cancel"
	CallbackPath = "/v1/callbacks"
)

// Error codes in an error answer's "code", for the client to match with
// errors.Is (Error.Is).
const (
	codeShutdown = "shutdown"
	codeNoFuture = "no_future"
	codeDeadlock = "deadlock"
)

// FutureSpec is one future of a SubmitRequest.
type FutureSpec struct {
	// Line is the command line; it runs in /bin/sh -c when Argv is empty.
	Line string `json:"line"`
	// Argv is the program and its arguments, run without a shell.
	Argv []string `json:"argv,omitempty"`
	// Dir is the working directory; "" is the service's.
	Dir string `json:"dir,omitempty"`
}

// SubmitRequest is the body of POST /v1/submit.
type SubmitRequest struct {
	// Client names the submitter (its pid), for status.
	Client  string       `json:"client,omitempty"`
	Futures []FutureSpec `json:"futures"`
	// Environ is the environment the futures run with (the submitter's),
	// held in memory until they start; empty is the service's own.
	Environ []string `json:"environ,omitempty"`
}

// SubmitReply answers a submit: the ids, committed, in the order of the
// futures.
type SubmitReply struct {
	IDs []int64 `json:"ids"`
}

// WaitRequest is the body of POST /v1/wait, Python's wait(fs, timeout,
// return_when).
type WaitRequest struct {
	IDs        []int64    `json:"ids"`
	ReturnWhen ReturnWhen `json:"return_when,omitempty"`
	// TimeoutMS ≤ 0 waits for ever.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Waiter is the id of the service's job that waits (its FUTURES_ID),
	// or 0, for deadlock detection.
	Waiter int64 `json:"waiter,omitempty"`
}

// WaitReply answers a wait: Python's (done, not_done), as ids in the
// order asked.
type WaitReply struct {
	Done    []int64 `json:"done"`
	NotDone []int64 `json:"not_done"`
}

// CancelRequest is the body of POST /v1/cancel.
type CancelRequest struct {
	IDs []int64 `json:"ids"`
	// Terminate also stops running futures: TERM, KILL after GraceMS (0:
	// the service's grace; it can only shorten it).
	Terminate bool  `json:"terminate,omitempty"`
	GraceMS   int64 `json:"grace_ms,omitempty"`
}

// CancelReply answers a cancel.
type CancelReply struct {
	NotCancelled []int64 `json:"not_cancelled"`
	Terminated   []int64 `json:"terminated"`
}

// CallbackRequest is the body of POST /v1/callbacks.
type CallbackRequest struct {
	ID   int64    `json:"id"`
	Argv []string `json:"argv"`
}

// CallbackReply answers with the callback's place among its future's.
type CallbackReply struct {
	Seq int `json:"seq"`
}

// maxSubmitBody bounds a submit's body: 10,000 lines of a few hundred
// bytes with an environment fit well.
const maxSubmitBody = 64 << 20

// CrashAfterCommit is the one value of the test hook RunOptions.Crash
// (FUTURES_TEST_CRASH of `futures service`, docs/service.md): the
// service SIGKILLs itself in a submit, right after its futures are
// committed and queued, before it replies.
const CrashAfterCommit = "after-commit"

// ErrBadCrashPoint is Run's error for a RunOptions.Crash it does not know.
var ErrBadCrashPoint = errors.New("unknown crash point (FUTURES_TEST_CRASH): the one test hook is " + CrashAfterCommit)

// crash SIGKILLs this process, as the kernel's OOM killer would: no
// deferred function runs, no reply is written.
func crash() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// handleFutures routes the futures endpoints of srv to ex; crashPoint is
// RunOptions.Crash.
func handleFutures(srv *Server, ex *Executor, crashPoint string) {
	srv.Handle(http.MethodPost, SubmitPath, func(w http.ResponseWriter, r *http.Request) {
		var req SubmitRequest
		if err := DecodeRequest(w, r, &req, maxSubmitBody); err != nil {
			WriteError(w, err)
			return
		}
		if len(req.Futures) == 0 {
			WriteError(w, &Error{Status: http.StatusBadRequest, Message: "no futures to submit"})
			return
		}
		specs := make([]store.Spec, len(req.Futures))
		for i, f := range req.Futures {
			if f.Line == "" && len(f.Argv) == 0 {
				WriteError(w, &Error{Status: http.StatusBadRequest, Message: "future " + itoa(int64(i+1)) + " has no command"})
				return
			}
			specs[i] = store.Spec{Client: req.Client, Line: f.Line, Argv: f.Argv, Dir: f.Dir}
			if len(f.Argv) > 0 && f.Line == "" {
				specs[i].Line = shellLine(f.Argv)
			}
		}
		ids, err := ex.Submit(r.Context(), Submission{Specs: specs, Environ: req.Environ})
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		if crashPoint == CrashAfterCommit {
			crash()
		}
		WriteJSON(w, http.StatusOK, SubmitReply{IDs: ids})
	})
	srv.Handle(http.MethodPost, WaitPath, func(w http.ResponseWriter, r *http.Request) {
		var req WaitRequest
		if err := DecodeRequest(w, r, &req, 4<<20); err != nil {
			WriteError(w, err)
			return
		}
		rw, err := ParseReturnWhen(string(req.ReturnWhen))
		if err != nil {
			WriteError(w, &Error{Status: http.StatusBadRequest, Message: err.Error()})
			return
		}
		// A long poll: the read deadline would cancel the request.
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		fs, err := ex.Wait(r.Context(), req.IDs, rw, time.Duration(req.TimeoutMS)*time.Millisecond, req.Waiter)
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		WriteJSON(w, http.StatusOK, splitDone(fs))
	})
	srv.Handle(http.MethodPost, CancelPath, func(w http.ResponseWriter, r *http.Request) {
		var req CancelRequest
		if err := DecodeRequest(w, r, &req, 4<<20); err != nil {
			WriteError(w, err)
			return
		}
		res, err := ex.Cancel(r.Context(), req.IDs, req.Terminate, time.Duration(req.GraceMS)*time.Millisecond)
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		WriteJSON(w, http.StatusOK, CancelReply{NotCancelled: orEmpty(res.NotCancelled), Terminated: orEmpty(res.Terminated)})
	})
	srv.Handle(http.MethodPost, CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		var req CallbackRequest
		if err := DecodeRequest(w, r, &req, 1<<20); err != nil {
			WriteError(w, err)
			return
		}
		if len(req.Argv) == 0 {
			WriteError(w, &Error{Status: http.StatusBadRequest, Message: "a callback needs a command"})
			return
		}
		seq, err := ex.AddCallback(r.Context(), req.ID, req.Argv)
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		WriteJSON(w, http.StatusOK, CallbackReply{Seq: seq})
	})
}

func orEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// splitDone is Python's (done, not_done) of fs.
func splitDone(fs []*store.Future) WaitReply {
	rep := WaitReply{Done: []int64{}, NotDone: []int64{}}
	for _, f := range fs {
		if f.Done() {
			rep.Done = append(rep.Done, f.ID)
		} else {
			rep.NotDone = append(rep.NotDone, f.ID)
		}
	}
	return rep
}

// writeFutureError answers err with the status and code its sentinel
// calls for.
func writeFutureError(w http.ResponseWriter, srv *Server, err error) {
	e := &Error{Status: http.StatusInternalServerError, Message: err.Error()}
	switch {
	case errors.Is(err, ErrShutdown):
		e.Status, e.Code = http.StatusConflict, codeShutdown
		e.Message = "service " + srv.info.Name + ": " + err.Error()
	case errors.Is(err, ErrDeadlock):
		e.Status, e.Code = http.StatusConflict, codeDeadlock
	case errors.Is(err, store.ErrNoFuture):
		e.Status, e.Code = http.StatusNotFound, codeNoFuture
	case errors.Is(err, context.Canceled):
		e.Status = 499 // the client went away; nobody reads this
	}
	WriteError(w, e)
}

// Submit submits req's futures and returns their ids.
func (c *Client) Submit(ctx context.Context, req SubmitRequest) ([]int64, error) {
	var rep SubmitReply
	err := c.Do(ctx, http.MethodPost, SubmitPath, req, &rep)
	return rep.IDs, err
}

// Wait is Python's wait over ids on the service.
func (c *Client) Wait(ctx context.Context, req WaitRequest) (WaitReply, error) {
	var rep WaitReply
	err := c.Do(ctx, http.MethodPost, WaitPath, req, &rep)
	return rep, err
}

// Cancel cancels (and with Terminate stops) the futures of req.
func (c *Client) Cancel(ctx context.Context, req CancelRequest) (CancelReply, error) {
	var rep CancelReply
	err := c.Do(ctx, http.MethodPost, CancelPath, req, &rep)
	return rep, err
}

// AddCallback adds a done-callback to a future and returns its Seq.
func (c *Client) AddCallback(ctx context.Context, id int64, argv []string) (int, error) {
	var rep CallbackReply
	err := c.Do(ctx, http.MethodPost, CallbackPath, CallbackRequest{ID: id, Argv: argv}, &rep)
	return rep.Seq, err
}
