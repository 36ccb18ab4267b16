package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Attached runs: `futures submit|map|wait --service NAME` run their batch
// as ever (their own output modes, summary, joblog), but each job holds
// one of the service's slots while it runs, so that the service's -j
// bounds the jobs of every client together, detached futures included.
// A run attaches (POST /v1/attach, a response that stays open for as long
// as the run does), then acquires and releases slots; when its attach
// connection closes (the run ended, or died) the service takes back the
// slots it held.

// The endpoints of attached runs.
const (
	AttachPath  = "/v1/attach"
	AcquirePath = "/v1/acquire"
	ReleasePath = "/v1/release"
)

// Attachment is an attached run, as the service knows it.
type Attachment struct {
	ID     int64
	Client string
	// Waiter is the id of the service's job that the run is part of (a
	// job that runs futures map …), or 0, for deadlock detection.
	Waiter int64
	held   map[int]bool // its slots; Executor.mu guards it
}

// leaseReq is an attached run's request for a slot, queued with the
// futures so that the service serves both in order.
type leaseReq struct {
	a         *Attachment
	slot      chan int // receives the slot granted; buffered
	abandoned bool     // its requester went away before the grant
}

// Attach registers an attached run; Detach ends it.
func (e *Executor) Attach(client string, waiter int64) (*Attachment, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrShutdown
	}
	e.attachSeq++
	a := &Attachment{ID: e.attachSeq, Client: client, Waiter: waiter, held: map[int]bool{}}
	e.attached[a.ID] = a
	return a, nil
}

// Detach ends attachment id, giving back the slots it still holds.
func (e *Executor) Detach(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.attached[id]
	if a == nil {
		return
	}
	delete(e.attached, id)
	for slot := range a.held {
		e.releaseLocked(a, slot)
	}
	e.dispatch()
	e.broadcast()
}

// grant gives a free slot to req; e.mu is held.
func (e *Executor) grant(req *leaseReq) {
	if req.abandoned || e.attached[req.a.ID] == nil {
		return
	}
	slot := e.slots[len(e.slots)-1]
	e.slots = e.slots[:len(e.slots)-1]
	e.leased[slot] = req.a
	req.a.held[slot] = true
	req.slot <- slot
}

// releaseLocked frees slot held by a; e.mu is held.
func (e *Executor) releaseLocked(a *Attachment, slot int) {
	if !a.held[slot] {
		return
	}
	delete(a.held, slot)
	delete(e.leased, slot)
	e.slots = append(e.slots, slot)
}

// Acquire waits, in turn with the futures submitted, for a slot for
// attachment id and returns it. A run that is itself a job of this
// service, waiting while every slot is held by such jobs, fails with
// ErrDeadlock.
func (e *Executor) Acquire(ctx context.Context, id int64) (int, error) {
	e.mu.Lock()
	a := e.attached[id]
	if a == nil {
		e.mu.Unlock()
		return 0, fmt.Errorf("no attached run %d (it detached)", id)
	}
	req := &leaseReq{a: a, slot: make(chan int, 1)}
	e.queue = append(e.queue, queued{lease: req})
	e.dispatch()
	var waiting *running
	if a.Waiter != 0 {
		if waiting = e.running[a.Waiter]; waiting != nil {
			waiting.waiting++
		}
	}
	e.mu.Unlock()
	defer func() {
		if waiting != nil {
			e.mu.Lock()
			waiting.waiting--
			e.mu.Unlock()
		}
	}()
	for {
		e.mu.Lock()
		changed := e.changed
		if e.attached[id] == nil { // detached meanwhile: its slots are gone
			req.abandoned = true
			e.mu.Unlock()
			return 0, fmt.Errorf("attached run %d: %w", id, errDetached)
		}
		deadlock := waiting != nil && len(req.slot) == 0 && e.deadlocked()
		if deadlock {
			req.abandoned = true
			e.broadcast()
		}
		e.mu.Unlock()
		if deadlock {
			return 0, ErrDeadlock
		}
		select {
		case slot := <-req.slot:
			e.mu.Lock()
			held := a.held[slot]
			e.mu.Unlock()
			if ctx.Err() != nil || !held {
				// Its requester went away as it was granted, or the run
				// detached: the slot is not this caller's to use.
				e.Release(id, slot)
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				return 0, fmt.Errorf("attached run %d: %w", id, errDetached)
			}
			return slot, nil
		case <-changed:
		case <-ctx.Done():
			e.mu.Lock()
			req.abandoned = true
			select {
			case slot := <-req.slot: // granted meanwhile: give it back
				e.releaseLocked(a, slot)
				e.dispatch()
				e.broadcast()
			default:
			}
			e.mu.Unlock()
			return 0, ctx.Err()
		}
	}
}

// errDetached is Acquire's error for a run that detached while it waited.
var errDetached = errors.New("detached")

// Release gives back slot, held by attachment id.
func (e *Executor) Release(id int64, slot int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.attached[id]; a != nil {
		e.releaseLocked(a, slot)
		e.dispatch()
		e.broadcast()
	}
}

// AttachRequest is the body of POST /v1/attach.
type AttachRequest struct {
	Client string `json:"client,omitempty"`
	Waiter int64  `json:"waiter,omitempty"`
}

// AttachReply is the first line of POST /v1/attach's answer, which then
// stays open until the client closes it.
type AttachReply struct {
	Attachment int64 `json:"attachment"`
	Workers    int   `json:"workers"`
}

// SlotRequest is the body of POST /v1/acquire and /v1/release.
type SlotRequest struct {
	Attachment int64 `json:"attachment"`
	Slot       int   `json:"slot,omitempty"`
}

// SlotReply answers an acquire.
type SlotReply struct {
	Slot int `json:"slot"`
}

// handleAttach routes the attached runs' endpoints of srv to ex.
func handleAttach(srv *Server, ex *Executor) {
	srv.Handle(http.MethodPost, AttachPath, func(w http.ResponseWriter, r *http.Request) {
		var req AttachRequest
		if err := DecodeRequest(w, r, &req, 64<<10); err != nil {
			WriteError(w, err)
			return
		}
		a, err := ex.Attach(req.Client, req.Waiter)
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		defer ex.Detach(a.ID)
		ex.opts.Log.Printf("attached run %d (client %s)", a.ID, a.Client)
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		WriteJSON(w, http.StatusOK, AttachReply{Attachment: a.ID, Workers: ex.Workers()})
		if err := rc.Flush(); err != nil {
			return
		}
		// Held until the run closes its connection (or dies).
		<-r.Context().Done()
	})
	srv.Handle(http.MethodPost, AcquirePath, func(w http.ResponseWriter, r *http.Request) {
		var req SlotRequest
		if err := DecodeRequest(w, r, &req, 4<<10); err != nil {
			WriteError(w, err)
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		slot, err := ex.Acquire(r.Context(), req.Attachment)
		if err != nil {
			writeFutureError(w, srv, err)
			return
		}
		if !WriteJSON(w, http.StatusOK, SlotReply{Slot: slot}) || r.Context().Err() != nil {
			ex.Release(req.Attachment, slot) // nobody will use it
		}
	})
	srv.Handle(http.MethodPost, ReleasePath, func(w http.ResponseWriter, r *http.Request) {
		var req SlotRequest
		if err := DecodeRequest(w, r, &req, 4<<10); err != nil {
			WriteError(w, err)
			return
		}
		ex.Release(req.Attachment, req.Slot)
		WriteJSON(w, http.StatusOK, struct{}{})
	})
}

// Attached is the client's end of an attached run: runner.Options.Slots
// backed by the service's slots. Close ends the attachment.
type Attached struct {
	c       *Client
	hold    io.ReadCloser // the attach response, open while the run lasts
	id      int64
	workers int
	closeMu sync.Once
}

// AttachRun attaches a run to the service at p (which must run).
func AttachRun(ctx context.Context, p Paths, client string) (*Attached, error) {
	c := Dial(p)
	body, err := c.open(ctx, http.MethodPost, AttachPath, AttachRequest{Client: client, Waiter: Waiter(p)})
	if err != nil {
		c.Close()
		return nil, err
	}
	var rep AttachReply
	line, err := bufio.NewReader(body).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &rep)
	}
	if err != nil {
		body.Close()
		c.Close()
		return nil, fmt.Errorf("service %s: attaching: %w", p.Name, err)
	}
	return &Attached{c: c, hold: body, id: rep.Attachment, workers: rep.Workers}, nil
}

// Workers is the service's -j: how many of the run's jobs may run at
// once at most.
func (a *Attached) Workers() int { return a.workers }

// Acquire waits for a slot of the service and returns the function that
// gives it back.
func (a *Attached) Acquire(ctx context.Context) (func(), error) {
	var rep SlotReply
	if err := a.c.Do(ctx, http.MethodPost, AcquirePath, SlotRequest{Attachment: a.id}, &rep); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("service %s: a slot for the next job: %w", a.c.paths.Name, err)
	}
	if ctx.Err() != nil { // granted as this attempt was given up
		_ = a.c.Do(context.Background(), http.MethodPost, ReleasePath, SlotRequest{Attachment: a.id, Slot: rep.Slot}, nil)
		return nil, ctx.Err()
	}
	return func() {
		// Best effort: when the service is gone, so is the slot.
		_ = a.c.Do(context.Background(), http.MethodPost, ReleasePath, SlotRequest{Attachment: a.id, Slot: rep.Slot}, nil)
	}, nil
}

// Close ends the attachment: the service takes back what it still holds.
func (a *Attached) Close() {
	a.closeMu.Do(func() {
		a.hold.Close()
		a.c.Close()
	})
}

// open sends a request and returns the body of its 2xx answer, open, for
// the caller to read and close.
func (c *Client) open(ctx context.Context, method, path string, in any) (io.ReadCloser, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://futures"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if notRunning(err) {
			return nil, &notRunningError{c.paths}
		}
		return nil, fmt.Errorf("service %s (socket %s): %s %s: %w", c.paths.Name, c.paths.Socket, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e errorBody
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil || e.Error == "" {
			return nil, &Error{Status: resp.StatusCode, Message: "service " + c.paths.Name + ": " + method + " " + path + ": " + resp.Status}
		}
		return nil, &Error{Status: resp.StatusCode, Message: e.Error, Code: e.Code}
	}
	return resp.Body, nil
}
