package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/job"
)

// Spec is what a client submits: one command.
type Spec struct {
	// Client names who submitted it (a client's pid or a name), for
	// status and for cancelling one client's futures.
	Client string
	// Line is the command line as the user wrote it.
	Line string
	// Argv is the program and its arguments; nil when Line runs in a
	// shell.
	Argv []string
	// Dir is the working directory; "" is the service's.
	Dir string
	// Env holds KEY=VALUE entries added to the job's environment.
	Env []string
}

// Future is a future's row.
type Future struct {
	ID    int64
	Spec  Spec
	State future.State
	// ExitCode is the job's exit status, valid when State is Finished: 128+N
	// when signal N killed it, -1 when it did not run to an exit status
	// (broken, or failed to start with no status).
	ExitCode int
	// Signal names the signal that killed the job ("SIGKILL"), or "".
	Signal string
	// Error says why the job failed to start or to deliver its output, or
	// why it broke; ErrorKinds are the job package's error kinds it
	// matched (job.Kinds), for job.FromWire.
	Error      string
	ErrorKinds []string
	// Broken is true when the future was finished by BreakUnfinished:
	// the service that held it died (Python's BrokenProcessPool).
	Broken bool
	// Submitted, Started and Finished are zero until they happened.
	Submitted, Started, Finished time.Time
	// Worker and Host name where the job ran.
	Worker, Host string
	// MaxRSSKB, User and Sys are the job's rusage.
	MaxRSSKB  int64
	User, Sys time.Duration
}

// Done reports whether the future is final (Cancelled or Finished).
func (f *Future) Done() bool { return f.State == future.Cancelled || f.State == future.Finished }

// Transition is one change of a future's state; From is -1 for the submit.
type Transition struct {
	From, To future.State
	At       time.Time
}

// stateName and parseState convert between future.State and the schema's
// text.
func stateName(s future.State) string { return s.String() }

func parseState(text string) (future.State, error) {
	var s future.State
	err := s.UnmarshalText([]byte(text))
	return s, err
}

// nullJSON is v as JSON, or NULL for a nil slice.
func nullJSON(v []string) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Submit adds one PENDING future per spec, in one transaction, and returns
// their ids in the specs' order, only once that transaction has committed:
// an id returned is a row on disk. Ids are never reused, not even after
// Forget. On error no future was added.
func (s *Store) Submit(ctx context.Context, specs []Spec) ([]int64, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(specs))
	now := ms(s.now())
	err := s.write(ctx, submitStmts, func(tx *txn) error {
		ins, err := tx.prepare(ctx, qInsertFuture)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		tr, err := tx.prepare(ctx, qInsertSubmit)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for i, sp := range specs {
			argv, err := nullJSON(sp.Argv)
			if err != nil {
				return fmt.Errorf("store: spec %d: %w", i+1, err)
			}
			env, err := nullJSON(sp.Env)
			if err != nil {
				return fmt.Errorf("store: spec %d: %w", i+1, err)
			}
			res, err := ins.ExecContext(ctx, sp.Client, sp.Line, argv, sp.Dir, env, now)
			if err != nil {
				return fmt.Errorf("store: submitting spec %d: %w", i+1, err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if _, err := tr.ExecContext(ctx, id, now); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// state reads id's state inside tx; ErrNoFuture when it has no row.
func state(ctx context.Context, tx *txn, id int64) (future.State, error) {
	var text string
	err := tx.queryRow(ctx, qState, id).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%%%d: %w (never submitted, or forgotten)", id, ErrNoFuture)
	}
	if err != nil {
		return 0, fmt.Errorf("store: future %d: %w", id, err)
	}
	return parseState(text)
}

// move sets id's state from → to by q, one of the qMove UPDATEs, with
// args for the columns its SET list has after state, and records the
// transition at at.
func move(ctx context.Context, tx *txn, q string, id int64, from, to future.State, at time.Time, args ...any) error {
	a := append([]any{stateName(to)}, args...)
	a = append(a, id, stateName(from))
	if _, err := tx.exec(ctx, q, a...); err != nil {
		return fmt.Errorf("store: future %d: %w", id, err)
	}
	if _, err := tx.exec(ctx, qTransition,
		id, stateName(from), stateName(to), ms(at)); err != nil {
		return fmt.Errorf("store: future %d: %w", id, err)
	}
	return nil
}

// Start moves a PENDING future to RUNNING on worker at host, at time at,
// and reports true; it reports false, changing nothing, when the future was
// cancelled first (the executor then does not run it, as Python's
// set_running_or_notify_cancel). A running or finished future is an error
// wrapping ErrIllegalMove; an unknown id, ErrNoFuture.
func (s *Store) Start(ctx context.Context, id int64, worker, host string, at time.Time) (bool, error) {
	started := false
	err := s.write(ctx, startStmts, func(tx *txn) error {
		st, err := state(ctx, tx, id)
		if err != nil {
			return err
		}
		switch st {
		case future.Cancelled:
			return nil
		case future.Pending:
		default:
			return fmt.Errorf("future %d: starting a %s future: %w", id, st, ErrIllegalMove)
		}
		started = true
		return move(ctx, tx, qMoveStart, id, future.Pending, future.Running, at,
			ms(at), worker, host)
	})
	return started && err == nil, err
}

// Finish moves a RUNNING future to FINISHED with how its job ended: exit
// code, signal, error (its text and job.Kinds), rusage; the finish time is
// o.Start+o.Duration when o.Start is set, else the store's clock. A future
// in another state is an error wrapping ErrIllegalMove; an unknown id,
// ErrNoFuture.
func (s *Store) Finish(ctx context.Context, id int64, o job.Outcome) error {
	end := s.now()
	if !o.Start.IsZero() {
		end = o.Start.Add(o.Duration)
	}
	errText := ""
	var kinds []string
	if o.Err != nil {
		errText = o.Err.Error()
		kinds = job.Kinds(o.Err)
	}
	kindsJSON, err := nullJSON(kinds)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.write(ctx, finishStmts, func(tx *txn) error {
		st, err := state(ctx, tx, id)
		if err != nil {
			return err
		}
		if st != future.Running {
			return fmt.Errorf("future %d: finishing a %s future: %w", id, st, ErrIllegalMove)
		}
		return move(ctx, tx, qMoveFinish, id, future.Running, future.Finished, end,
			o.ExitCode, o.Signal, errText, kindsJSON, ms(end),
			o.MaxRSSKB, o.User.Milliseconds(), o.Sys.Milliseconds())
	})
}

// checkIDs returns an error wrapping ErrNoFuture that names every id of
// ids with no row, or nil.
func checkIDs(ctx context.Context, tx *txn, ids []int64) error {
	var missing []string
	for _, id := range ids {
		var one int
		err := tx.queryRow(ctx, qExists, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, strconv.FormatInt(id, 10))
			continue
		}
		if err != nil {
			return fmt.Errorf("store: future %d: %w", id, err)
		}
	}
	if missing != nil {
		return fmt.Errorf("%%%s: %w (never submitted, or forgotten)", strings.Join(missing, ", %"), ErrNoFuture)
	}
	return nil
}

// Cancel cancels the PENDING futures of ids, in one transaction, and
// returns the ids it could not cancel because they had started or finished,
// in the order given (Python's cancel() returning False). A future already
// cancelled counts as cancelled (cancel() returns True for it). An id with
// no row is an error wrapping ErrNoFuture that names it, and then nothing
// is cancelled.
func (s *Store) Cancel(ctx context.Context, ids []int64) (notCancelled []int64, err error) {
	now := s.now()
	err = s.write(ctx, cancelStmts, func(tx *txn) error {
		if err := checkIDs(ctx, tx, ids); err != nil {
			return err
		}
		notCancelled = nil
		for _, id := range ids {
			st, err := state(ctx, tx, id)
			if err != nil {
				return err
			}
			switch st {
			case future.Cancelled:
			case future.Pending:
				if err := move(ctx, tx, qMoveCancel, id, future.Pending, future.Cancelled, now,
					ms(now)); err != nil {
					return err
				}
			default:
				notCancelled = append(notCancelled, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return notCancelled, nil
}

// BreakUnfinished is crash recovery, run when the service that held the
// store is found dead: every RUNNING and PENDING future becomes FINISHED
// and broken, with exit code -1 and reason as its error (Python's
// BrokenProcessPool), in one transaction; FINISHED and CANCELLED futures
// are untouched. It returns the ids it broke, in id order.
func (s *Store) BreakUnfinished(ctx context.Context, reason string) ([]int64, error) {
	now := s.now()
	var broke []int64
	err := s.write(ctx, nil, func(tx *txn) error {
		broke = nil
		rows, err := tx.QueryContext(ctx,
			`SELECT id, state FROM futures WHERE state IN ('PENDING', 'RUNNING') ORDER BY id`)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		type row struct {
			id int64
			st future.State
		}
		var todo []row
		for rows.Next() {
			var r row
			var text string
			if err := rows.Scan(&r.id, &text); err != nil {
				rows.Close()
				return fmt.Errorf("store: %w", err)
			}
			if r.st, err = parseState(text); err != nil {
				rows.Close()
				return fmt.Errorf("store: future %d: %w", r.id, err)
			}
			todo = append(todo, r)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for _, r := range todo {
			if err := move(ctx, tx, qMoveBreak, r.id, r.st, future.Finished, now,
				reason, ms(now)); err != nil {
				return err
			}
			broke = append(broke, r.id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return broke, nil
}

// columns are the futures columns scanFuture reads, in its order.
const columns = `id, client, line, argv, dir, env, state, exit_code, signal, error,
	error_kinds, broken, submitted_ms, started_ms, finished_ms, worker, host,
	max_rss_kb, user_ms, sys_ms`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// fromMS is the time of Unix milliseconds, zero for NULL.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

func scanFuture(sc scanner) (*Future, error) {
	var (
		f                        Future
		argv, env, kinds         sql.NullString
		stText                   string
		exit, started, finished  sql.NullInt64
		submitted, userMS, sysMS int64
		broken                   int
	)
	err := sc.Scan(&f.ID, &f.Spec.Client, &f.Spec.Line, &argv, &f.Spec.Dir, &env, &stText,
		&exit, &f.Signal, &f.Error, &kinds, &broken, &submitted, &started, &finished,
		&f.Worker, &f.Host, &f.MaxRSSKB, &userMS, &sysMS)
	if err != nil {
		return nil, err
	}
	if f.State, err = parseState(stText); err != nil {
		return nil, fmt.Errorf("future %d: %w", f.ID, err)
	}
	for _, j := range []struct {
		text sql.NullString
		dst  *[]string
	}{{argv, &f.Spec.Argv}, {env, &f.Spec.Env}, {kinds, &f.ErrorKinds}} {
		if j.text.Valid {
			if err := json.Unmarshal([]byte(j.text.String), j.dst); err != nil {
				return nil, fmt.Errorf("future %d: %w", f.ID, err)
			}
		}
	}
	f.ExitCode = int(exit.Int64)
	if !exit.Valid {
		f.ExitCode = -1
	}
	f.Broken = broken != 0
	f.Submitted = time.UnixMilli(submitted)
	f.Started, f.Finished = fromMS(started), fromMS(finished)
	f.User, f.Sys = time.Duration(userMS)*time.Millisecond, time.Duration(sysMS)*time.Millisecond
	return &f, nil
}

// Get returns the future id; an error wrapping ErrNoFuture when it has no
// row (never submitted, or forgotten).
func (s *Store) Get(ctx context.Context, id int64) (*Future, error) {
	s.stmts.prepare(ctx, s.db, qGet)
	var row *sql.Row
	if st := s.stmts.lookup(qGet); st != nil {
		row = st.QueryRowContext(ctx, id)
	} else {
		row = s.db.QueryRowContext(ctx, qGet, id)
	}
	f, err := scanFuture(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("future %d: %w", id, ErrNoFuture)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	return f, nil
}

// Filter selects futures for List; its zero value selects all.
type Filter struct {
	// IDs, when not empty, are the only ids listed (unknown ones are
	// skipped).
	IDs []int64
	// States, when not empty, are the only states listed.
	States []future.State
	// Client, when not "", is the only client listed.
	Client string
}

// List returns the futures that match f, in id order.
func (s *Store) List(ctx context.Context, f Filter) ([]*Future, error) {
	var where []string
	var args []any
	if len(f.IDs) > 0 {
		b, _ := json.Marshal(f.IDs)
		where = append(where, `id IN (SELECT value FROM json_each(?))`)
		args = append(args, string(b))
	}
	if len(f.States) > 0 {
		names := make([]string, len(f.States))
		for i, st := range f.States {
			names[i] = stateName(st)
		}
		b, _ := json.Marshal(names)
		where = append(where, `state IN (SELECT value FROM json_each(?))`)
		args = append(args, string(b))
	}
	if f.Client != "" {
		where = append(where, `client = ?`)
		args = append(args, f.Client)
	}
	q := `SELECT ` + columns + ` FROM futures`
	if where != nil {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []*Future
	for rows.Next() {
		fu, err := scanFuture(rows)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", s.path, err)
		}
		out = append(out, fu)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	return out, nil
}

// Transitions returns every state change of future id, oldest first; the
// first is its submit (From -1, To Pending).
func (s *Store) Transitions(ctx context.Context, id int64) ([]Transition, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT from_state, to_state, at_ms FROM transitions WHERE future_id = ? ORDER BY rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var from sql.NullString
		var to string
		var at int64
		if err := rows.Scan(&from, &to, &at); err != nil {
			return nil, fmt.Errorf("store %s: %w", s.path, err)
		}
		t := Transition{From: -1, At: time.UnixMilli(at)}
		if from.Valid {
			if t.From, err = parseState(from.String); err != nil {
				return nil, fmt.Errorf("store %s: future %d: %w", s.path, id, err)
			}
		}
		if t.To, err = parseState(to); err != nil {
			return nil, fmt.Errorf("store %s: future %d: %w", s.path, id, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OutputPaths returns the paths of future id's stdout and stderr files,
// out/ID.out and out/ID.err in the store's directory. They may not exist.
func (s *Store) OutputPaths(id int64) (stdout, stderr string) {
	base := filepath.Join(s.dir, OutDir, strconv.FormatInt(id, 10))
	return base + ".out", base + ".err"
}

// CreateOutput creates (or truncates) future id's output files, mode 0600,
// for its job to write to. The caller closes them.
func (s *Store) CreateOutput(id int64) (stdout, stderr *os.File, err error) {
	po, pe := s.OutputPaths(id)
	stdout, err = os.OpenFile(po, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	stderr, err = os.OpenFile(pe, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		stdout.Close()
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	return stdout, stderr, nil
}

// removeOutput removes future id's output files; missing ones are fine.
func (s *Store) removeOutput(id int64) error {
	po, pe := s.OutputPaths(id)
	for _, p := range []string{po, pe} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// Forget removes the done (CANCELLED or FINISHED) futures of ids: their
// rows, transitions, callbacks and output files. It returns the ids it did
// not forget because they are not done yet, in the order given. An id with
// no row is an error wrapping ErrNoFuture that names it, and then nothing
// is forgotten. A forgotten id is never handed out again.
func (s *Store) Forget(ctx context.Context, ids []int64) (notForgotten []int64, err error) {
	var gone []int64
	err = s.write(ctx, nil, func(tx *txn) error {
		if err := checkIDs(ctx, tx, ids); err != nil {
			return err
		}
		notForgotten, gone = nil, nil
		for _, id := range ids {
			st, err := state(ctx, tx, id)
			if err != nil {
				return err
			}
			if st != future.Cancelled && st != future.Finished {
				notForgotten = append(notForgotten, id)
				continue
			}
			if err := deleteFuture(ctx, tx, id); err != nil {
				return err
			}
			gone = append(gone, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return notForgotten, s.removeOutputs(gone)
}

// ForgetAll removes every done future, as Forget does, and returns their
// ids.
func (s *Store) ForgetAll(ctx context.Context) ([]int64, error) {
	var gone []int64
	err := s.write(ctx, nil, func(tx *txn) error {
		gone = nil
		rows, err := tx.QueryContext(ctx,
			`SELECT id FROM futures WHERE state IN ('CANCELLED', 'FINISHED') ORDER BY id`)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: %w", err)
			}
			gone = append(gone, id)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for _, id := range gone {
			if err := deleteFuture(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gone, s.removeOutputs(gone)
}

// deleteFuture deletes id's rows in every table (not relying on the
// foreign keys' cascade, which a sqlite3 session does not enable).
func deleteFuture(ctx context.Context, tx *txn, id int64) error {
	for _, q := range []string{
		`DELETE FROM callbacks WHERE future_id = ?`,
		`DELETE FROM transitions WHERE future_id = ?`,
		`DELETE FROM futures WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("store: forgetting future %d: %w", id, err)
		}
	}
	return nil
}

// removeOutputs removes the output files of ids after their rows are gone;
// a file left by a crash here is only disk space (its id is never reused).
func (s *Store) removeOutputs(ids []int64) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.removeOutput(id))
	}
	return errors.Join(errs...)
}
