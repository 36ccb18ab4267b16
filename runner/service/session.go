package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

// Session is a client's handle on a service's futures: the store, read
// directly (so that results stay readable after the service has shut
// down), and the service, for what only it does (take futures, run,
// stop and wait on them).
type Session struct {
	Paths Paths
	// Store is nil when the service never ran (no state directory): it
	// has no futures.
	Store  *store.Store
	Client *Client
}

// OpenSession opens the store of the service at p, if it has one, and a
// client for the service.
func OpenSession(p Paths) (*Session, error) {
	s := &Session{Paths: p, Client: Dial(p)}
	if _, err := os.Stat(p.StateDir); errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		return nil, err
	}
	s.Store = st
	return s, nil
}

// Close closes the store and the client.
func (s *Session) Close() {
	s.Client.Close()
	if s.Store != nil {
		s.Store.Close()
	}
}

// ensureStore opens the store once the service has made it.
func (s *Session) ensureStore() error {
	if s.Store != nil {
		return nil
	}
	st, err := store.Open(s.Paths.StateDir)
	if err != nil {
		return err
	}
	s.Store = st
	return nil
}

// Lookup returns the futures ids in the order given; an unknown id is an
// error wrapping store.ErrNoFuture that names it.
func (s *Session) Lookup(ctx context.Context, ids []int64) ([]*store.Future, error) {
	if s.Store == nil {
		if len(ids) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%%%d: %w (service %s has never run)", ids[0], store.ErrNoFuture, s.Paths.Name)
	}
	return Lookup(ctx, s.Store, ids)
}

// Waiter is the id of the job this process runs as, when it is a job of
// the service at p (FUTURES_SERVICE and FUTURES_ID in its environment),
// else 0.
func Waiter(p Paths) int64 {
	if os.Getenv("FUTURES_SERVICE") != p.Name {
		return 0
	}
	id, err := ParseID(os.Getenv("FUTURES_ID"))
	if err != nil {
		return 0
	}
	return id
}

// ParseID parses a future's id, %N (N ≥ 1).
func ParseID(s string) (int64, error) {
	n, ok := strings.CutPrefix(s, "%")
	if !ok {
		return 0, fmt.Errorf("bad future id %q: want %%N, as printed by submit --detach", s)
	}
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("bad future id %q: want %%N with N a number from 1", s)
	}
	return id, nil
}

// IsID reports whether s has the form of a future's id, %N.
func IsID(s string) bool {
	_, err := ParseID(s)
	return err == nil
}

// Await waits until the futures ids satisfy rw, or timeout (≤ 0: none)
// passes, or ctx ends, and returns them as they are then: the caller
// tells a timeout by Satisfied being false. The service wakes it; when no
// service runs, the futures a dead one left unfinished are broken first
// (BreakIfDead), so every future is then final.
func (s *Session) Await(ctx context.Context, ids []int64, rw ReturnWhen, timeout time.Duration) ([]*store.Future, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	waiter := Waiter(s.Paths)
	tries := 0
	for {
		fs, err := s.Lookup(ctx, ids)
		if err != nil || Satisfied(fs, rw) {
			return fs, err
		}
		left := time.Duration(0)
		if !deadline.IsZero() {
			if left = time.Until(deadline); left <= 0 {
				return fs, nil
			}
		}
		ms := left.Milliseconds()
		if left > 0 && ms == 0 {
			ms = 1
		}
		_, err = s.Client.Wait(ctx, WaitRequest{IDs: ids, ReturnWhen: rw, TimeoutMS: ms, Waiter: waiter})
		var e *Error
		switch {
		case err == nil:
			tries = 0
			continue
		case errors.As(err, &e):
			return fs, err // the service refused: unknown id, deadlock
		case ctx.Err() != nil:
			return fs, ctx.Err()
		}
		// No service answers: it died, or it is going away.
		if !Alive(s.Paths) {
			if _, err := BreakIfDead(ctx, s.Paths, s.Store); err != nil {
				return fs, err
			}
			continue
		}
		if tries++; tries > 100 {
			return fs, err
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return fs, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Output copies future f's output so far to stdout and stderr.
func (s *Session) Output(f *store.Future, stdout, stderr io.Writer) error {
	outPath, errPath := s.Store.OutputPaths(f.ID)
	for _, c := range []struct {
		path string
		w    io.Writer
	}{{outPath, stdout}, {errPath, stderr}} {
		in, err := os.Open(c.path)
		if errors.Is(err, os.ErrNotExist) {
			continue // never started: no output
		} else if err != nil {
			return err
		}
		_, err = io.Copy(c.w, in)
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Follow streams future id's output to stdout and stderr as it is
// written, until the future is done and all of it is copied. It polls the
// files every poll interval (tail -f's way: it needs no help from the
// service, and works on a stopped one).
func (s *Session) Follow(ctx context.Context, id int64, stdout, stderr io.Writer, poll time.Duration) error {
	outPath, errPath := s.Store.OutputPaths(id)
	type tail struct {
		path string
		w    io.Writer
		f    *os.File
	}
	tails := []*tail{{path: outPath, w: stdout}, {path: errPath, w: stderr}}
	defer func() {
		for _, t := range tails {
			if t.f != nil {
				t.f.Close()
			}
		}
	}()
	copyAll := func() error {
		for _, t := range tails {
			if t.f == nil {
				f, err := os.Open(t.path)
				if errors.Is(err, os.ErrNotExist) {
					continue
				} else if err != nil {
					return err
				}
				t.f = f
			}
			if _, err := io.Copy(t.w, t.f); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		fs, err := s.Lookup(ctx, []int64{id})
		if err != nil {
			return err
		}
		done := fs[0].Done()
		if !done && !Alive(s.Paths) {
			if _, err := BreakIfDead(ctx, s.Paths, s.Store); err != nil {
				return err
			}
		}
		if err := copyAll(); err != nil {
			return err
		}
		if done {
			return nil // its files were complete before this last copy
		}
		if err := sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// Reason says why future f did not succeed, as exception prints it, or
// "" when it succeeded or is not done.
func Reason(f *store.Future) string {
	switch {
	case f.State.String() == "CANCELLED":
		return "cancelled"
	case !f.Done():
		return ""
	case f.Broken:
		return f.Error
	case f.Error != "":
		return f.Error
	case f.Signal != "":
		return fmt.Sprintf("killed by %s (exit status %d)", f.Signal, f.ExitCode)
	case f.ExitCode != 0:
		return fmt.Sprintf("exit status %d", f.ExitCode)
	}
	return ""
}

// LostSubmit is what a client makes of a submit whose connection broke
// before the answer came (the service died, or was killed, while it took
// the submit): the futures may have been committed, and their ids were
// never printed. pid is the service the client talked to (Info.PID). It
// waits, up to patience, until that service is gone: no service process
// left, whose futures it then breaks (BreakIfDead), or another one in its
// place (started by another client meanwhile), which broke them when it
// started, and is awaited until it answers. So every future is final;
// LostSubmit returns the ids of the futures of client submitted at or
// after since with an id above after: those the dead service committed,
// now broken. alive is true when service pid still runs after patience
// (the connection broke for another reason): nothing is known then, and
// nothing is returned.
func (s *Session) LostSubmit(ctx context.Context, pid int, client string, since time.Time, after int64, patience time.Duration) (ids []int64, alive bool, err error) {
	deadline := time.Now().Add(patience)
	delay := time.Millisecond
	for {
		if !Alive(s.Paths) {
			if err := s.ensureStore(); err != nil {
				return nil, false, err
			}
			if _, err := BreakIfDead(ctx, s.Paths, s.Store); err != nil {
				return nil, false, err
			}
			break
		}
		if now := ServicePID(s.Paths); now != 0 && now != pid {
			// Another service holds the pid lock: it broke what ours left
			// before it listens.
			if _, err := awaitService(ctx, s.Paths, s.Client, 0, time.Until(deadline)); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, true, nil
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, false, err
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
	if err := s.ensureStore(); err != nil {
		return nil, false, err
	}
	fs, err := s.Store.List(ctx, store.Filter{Client: client})
	if err != nil {
		return nil, false, err
	}
	since = since.Truncate(time.Millisecond) // the store's precision
	for _, f := range fs {
		if f.ID > after && !f.Submitted.Before(since) {
			ids = append(ids, f.ID)
		}
	}
	return ids, false, nil
}
