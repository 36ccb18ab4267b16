package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// The statements the store runs for every future (Submit, Start, Finish,
// Cancel, Get). Parsing and planning one costs SQLite more than running
// it, so a Store prepares each once, on its *sql.DB, and runs it in a
// transaction through Tx.StmtContext, which reuses what is prepared on the
// transaction's connection (database/sql prepares it there the first time
// that connection runs it). modernc.org/sqlite keeps the compiled
// statement of a one-statement text in its driver statement and resets it
// after each use. The SQL is the same as it was written out in place.
//
// Caching them is safe:
//   - A schema change by another process (a newer futures migrating the
//     file while this service runs) expires a prepared statement; SQLite
//     compiles it again at its next step (the driver prepares with
//     sqlite3_prepare_v2), and fails it with the error a fresh prepare
//     would give.
//   - The write lock is taken by the transaction's BEGIN IMMEDIATE
//     (_txlock=immediate), which is where a busy store is waited for; a
//     statement inside the transaction does not wait. A statement that
//     fails is reset by the driver, and is reusable.
//   - A stepped SELECT holds a read snapshot on its connection, and with
//     it the WAL's checkpoints, until it is reset: the queries here are
//     read by QueryRow, whose Scan closes the rows, which resets it.
//   - Several *sql.DB on one file (processes, or two Stores in one) each
//     have their own statements; nothing is shared but the file.
//
// Not cached: migrate's and setWAL's statements (once per Open), List's
// (its SQL is built from the filter), and those only the rarer writes run
// (Forget's deletes, the callbacks', BreakUnfinished's UPDATE), which run as
// text, prepared and finalized each time, as before. The transactions'
// BEGIN IMMEDIATE and COMMIT are the driver's own, prepared each time.
const (
	qInsertFuture = `INSERT INTO futures (client, line, argv, dir, env, submitted_ms) VALUES (?, ?, ?, ?, ?, ?)`
	qInsertSubmit = `INSERT INTO transitions (future_id, from_state, to_state, at_ms) VALUES (?, NULL, 'PENDING', ?)`
	qState        = `SELECT state FROM futures WHERE id = ?`
	qExists       = `SELECT 1 FROM futures WHERE id = ?`
	qTransition   = `INSERT INTO transitions (future_id, from_state, to_state, at_ms) VALUES (?, ?, ?, ?)`
	qGet          = `SELECT ` + columns + ` FROM futures WHERE id = ?`

	// move's UPDATE, one per move: its SET list differs.
	moveHead    = `UPDATE futures SET state = ?`
	moveTail    = ` WHERE id = ? AND state = ?`
	qMoveStart  = moveHead + `, started_ms = ?, worker = ?, host = ?` + moveTail
	qMoveFinish = moveHead + `, exit_code = ?, signal = ?, error = ?, error_kinds = ?, finished_ms = ?,
			   max_rss_kb = ?, user_ms = ?, sys_ms = ?` + moveTail
	qMoveCancel = moveHead + `, finished_ms = ?` + moveTail
	qMoveBreak  = moveHead + `, broken = 1, exit_code = -1, error = ?, finished_ms = ?` + moveTail
)

// The statements each cached write prepares before its transaction.
var (
	submitStmts = []string{qInsertFuture, qInsertSubmit}
	startStmts  = []string{qState, qMoveStart, qTransition}
	finishStmts = []string{qState, qMoveFinish, qTransition}
	cancelStmts = []string{qExists, qState, qMoveCancel, qTransition}
)

// stmtCache is a Store's prepared statements, one per SQL text. A map
// keyed by the text rather than a field per statement: move's UPDATE is
// chosen by its caller, and a query runs the same whether or not its
// statement is here (see txn.exec), so a write lists what it wants
// prepared and the helpers it shares (state, move) need not know which.
// The keys are the constant queries above; nothing built at run time is
// added.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt // guarded by mu
	closed bool                 // guarded by mu: close ran; nothing is added
}

// prepare prepares on db those of qs not prepared yet. It is best effort:
// on an error it stops, and the queries left out run as text, which
// reports the error where it always did. (Stopping bounds the cost of a
// store that cannot be read, for instance locked by another program
// longer than BusyTimeout: one wait here, besides the transaction's.)
// Call it outside any transaction of db: preparing on db takes an idle
// connection, and opens a new one when a transaction holds the only one;
// the transaction that follows then takes the same connection
// (database/sql hands out the most recently used) and finds the
// statements prepared on it.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, qs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, q := range qs {
		if _, ok := c.m[q]; ok {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return
		}
		if c.m == nil {
			c.m = make(map[string]*sql.Stmt)
		}
		c.m[q] = st
	}
}

// lookup returns q's prepared statement, or nil.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// close closes the statements; prepare adds none afterwards.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// txn is a write transaction of a Store, with the Store's prepared
// statements at hand.
type txn struct {
	*sql.Tx
	cache *stmtCache
	// stmts are the cached statements bound to Tx by Tx.StmtContext so
	// far: one each, however often it runs (Cancel of many ids). A few
	// at most, in buf; Tx closes them when it ends.
	stmts []txStmt
	buf   [4]txStmt
}

// newTxn returns tx with c's statements at hand.
func newTxn(tx *sql.Tx, c *stmtCache) *txn {
	t := &txn{Tx: tx, cache: c}
	t.stmts = t.buf[:0]
	return t
}

type txStmt struct {
	q  string
	st *sql.Stmt
}

// stmt returns q's prepared statement bound to tx, or nil when q is not
// prepared.
func (tx *txn) stmt(ctx context.Context, q string) *sql.Stmt {
	for _, t := range tx.stmts {
		if t.q == q {
			return t.st
		}
	}
	st := tx.cache.lookup(q)
	if st == nil {
		return nil
	}
	// Prepared on tx's connection, unless this connection has not run q
	// yet: then it is prepared on it now, once, and an error doing so
	// is returned by the statement's Exec or Query.
	st = tx.StmtContext(ctx, st)
	tx.stmts = append(tx.stmts, txStmt{q, st})
	return st
}

// exec runs q in tx: through its prepared statement when there is one,
// else as text.
func (tx *txn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// queryRow runs q in tx for one row: through its prepared statement when
// there is one, else as text.
func (tx *txn) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := tx.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// prepare returns q's statement in tx, for a caller that runs it many
// times: the prepared one when there is one, else one prepared in tx now.
// Either is closed when tx ends.
func (tx *txn) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := tx.stmt(ctx, q); st != nil {
		return st, nil
	}
	return tx.PrepareContext(ctx, q)
}
