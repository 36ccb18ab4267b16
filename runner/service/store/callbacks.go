package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Callback is a command to run when a future is done.
type Callback struct {
	// Seq is its place among its future's callbacks: 1, 2, … in the order
	// added, the order they run in.
	Seq  int
	Argv []string
	// Added is when it was added; Ran, when it ran (zero until then).
	Added, Ran time.Time
	// ExitCode is its exit status once it ran (-1 before, or when it could
	// not be started); Error says why it could not run.
	ExitCode int
	Error    string
}

// AddCallback adds argv as future id's next callback and returns its Seq.
// It does not run it: the service does, at once when the future is already
// done. An empty argv is an error; an unknown id, ErrNoFuture.
func (s *Store) AddCallback(ctx context.Context, id int64, argv []string) (int, error) {
	if len(argv) == 0 {
		return 0, fmt.Errorf("future %d: a callback needs a command", id)
	}
	b, err := json.Marshal(argv)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	now := ms(s.now())
	var seq int
	err = s.write(ctx, nil, func(tx *txn) error {
		if _, err := state(ctx, tx, id); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO callbacks (future_id, seq, argv, added_ms)
			 VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM callbacks WHERE future_id = ?1), ?2, ?3)
			 RETURNING seq`, id, string(b), now).Scan(&seq)
		if err != nil {
			return fmt.Errorf("store: future %d: %w", id, err)
		}
		return nil
	})
	return seq, err
}

// Callbacks returns future id's callbacks in the order added (and to run).
// A future without any, or unknown, has none.
func (s *Store) Callbacks(ctx context.Context, id int64) ([]Callback, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT seq, argv, added_ms, ran_ms, exit_code, error FROM callbacks
		 WHERE future_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Callback
	for rows.Next() {
		var (
			c         Callback
			argv      string
			added     int64
			ran, exit sql.NullInt64
		)
		if err := rows.Scan(&c.Seq, &argv, &added, &ran, &exit, &c.Error); err != nil {
			return nil, fmt.Errorf("store %s: %w", s.path, err)
		}
		if err := json.Unmarshal([]byte(argv), &c.Argv); err != nil {
			return nil, fmt.Errorf("store %s: future %d callback %d: %w", s.path, id, c.Seq, err)
		}
		c.Added, c.Ran = time.UnixMilli(added), fromMS(ran)
		c.ExitCode = -1
		if exit.Valid {
			c.ExitCode = int(exit.Int64)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ErrNoCallback is wrapped by MarkCallbackRan's error for a callback that
// does not exist.
var ErrNoCallback = errors.New("no such callback")

// MarkCallbackRan records that future id's callback seq ran at at, with
// its exit code, or runErr when it could not run. A callback not there is
// an error wrapping ErrNoCallback.
func (s *Store) MarkCallbackRan(ctx context.Context, id int64, seq int, at time.Time, exitCode int, runErr error) error {
	errText := ""
	if runErr != nil {
		errText = runErr.Error()
	}
	return s.write(ctx, nil, func(tx *txn) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE callbacks SET ran_ms = ?, exit_code = ?, error = ? WHERE future_id = ? AND seq = ?`,
			ms(at), exitCode, errText, id, seq)
		if err != nil {
			return fmt.Errorf("store: future %d callback %d: %w", id, seq, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("future %d callback %d: %w", id, seq, ErrNoCallback)
		}
		return nil
	})
}
