// Package store is the executor service's state: its futures, every change
// of their states and their done-callbacks, in a SQLite database (WAL mode,
// through database/sql and the pure Go modernc.org/sqlite), with each job's
// output in files beside it. docs/service.md documents the schema and the
// crash semantics.
//
// Every write is one short transaction; an id is returned only once the
// transaction that made its row has committed, so an id a client was told
// about survives a crash of the service. Several Stores (processes) may
// share one directory: transactions take the write lock at their start
// (BEGIN IMMEDIATE) and wait for it up to BusyTimeout.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// DBName is the database's file name in a store's directory; OutDir is the
// directory of the jobs' output files beside it.
const (
	DBName = "futures.db"
	OutDir = "out"
)

// BusyTimeout is how long a write waits for another process's write
// transaction to end before it fails.
const BusyTimeout = 10 * time.Second

// applicationID marks a futures store: 'FUTR' read as a big-endian 32-bit
// integer, set by schema/0001_futures.sql (PRAGMA application_id).
const applicationID = 0x46555452

// sqliteNotADB is SQLite's SQLITE_NOTADB result code: the file is not a
// database.
const sqliteNotADB = 26

// sqliteCorrupt is SQLite's SQLITE_CORRUPT: the database disk image is
// malformed.
const sqliteCorrupt = 11

// ErrNotAStore is wrapped by Open's error when the file at the database's
// path is not a futures store: not SQLite at all (garbage, truncated), or
// another program's SQLite database.
var ErrNotAStore = errors.New("not a futures store")

// ErrSchemaTooNew is wrapped by Open's error when the store was written by
// a newer futures, whose schema this one does not know.
var ErrSchemaTooNew = errors.New("store schema is newer than this futures knows")

// ErrNoFuture is wrapped by the error of an operation on an id that has no
// row: never submitted, or forgotten.
var ErrNoFuture = errors.New("no such future")

// ErrIllegalMove is wrapped by the error of Start or Finish on a future in a
// state that move cannot leave (starting a running future, finishing a
// pending one).
var ErrIllegalMove = errors.New("illegal state move")

//go:embed schema/*.sql
var schemaFS embed.FS

// migration is one numbered schema file.
type migration struct {
	version int
	name    string // schema/0001_futures.sql
	sql     string
}

// migrations returns the embedded schema files in order; file NNNN_*.sql is
// version NNNN, and versions run 1, 2, … without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := filepath.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("schema file %s: want number %04d", name, i+1)
		}
		b, err := schemaFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// Store is an open futures store. Its methods are safe for concurrent use;
// its writes are serialized within the process and, through SQLite's lock,
// with other processes' Stores on the same directory.
type Store struct {
	dir  string
	path string
	db   *sql.DB
	// wmu serializes this Store's write transactions, so that its own
	// goroutines queue here rather than on SQLite's busy timeout.
	wmu sync.Mutex
	// now is the clock for the times the store takes itself (submitted,
	// cancelled, broken); tests may replace it.
	now func() time.Time
	// stmts are the statements run for every future, prepared once
	// (stmts.go).
	stmts stmtCache
}

// Open opens the store in dir, creating dir (0700), its out/ directory
// (0700) and the database (0600) when missing, and brings the schema up to
// date in one transaction. A file at the database's path that is not a
// futures store is an error naming the path that wraps ErrNotAStore; one
// written by a newer futures, an error naming it that wraps
// ErrSchemaTooNew. Neither is changed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, OutDir), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, DBName)
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	// Relative paths stay relative to the process's working directory;
	// the URI needs an absolute one to be unambiguous.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	dsn := "file:" + abs + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &Store{dir: dir, path: path, db: db, now: time.Now}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	// WAL is persistent in the file: set once the file is known to be a
	// store (never on a foreign file), outside any transaction, as SQLite
	// requires.
	if err := setWAL(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// setWAL puts the database in WAL mode unless it is already. Changing the
// journal mode does not wait on SQLite's busy handler: while another
// process opens the new file at the same moment, it fails with
// SQLITE_BUSY, so it is tried again, with a growing pause, for up to
// BusyTimeout.
func setWAL(db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	delay := time.Millisecond
	for {
		var mode string
		err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		if err == nil && mode == "wal" {
			return nil
		}
		if err == nil {
			err = db.QueryRow(`PRAGMA journal_mode = WAL`).Scan(&mode)
			if err == nil && mode == "wal" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("journal_mode WAL: got %q, %v", mode, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// sqliteMagic begins every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkHeader creates path (0600) when missing and refuses, with an error
// wrapping ErrNotAStore, a file that is not empty and does not begin as a
// SQLite database does (SQLite would take a file shorter than its header
// for an empty database and write over it).
func checkHeader(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && err == io.EOF:
		return nil
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%s: %w (%d bytes, shorter than a SQLite header)", path, ErrNotAStore, n)
	case err != nil:
		return fmt.Errorf("store: %w", err)
	case string(head[:len(sqliteMagic)]) != sqliteMagic:
		return fmt.Errorf("%s: %w (not a SQLite database)", path, ErrNotAStore)
	}
	return nil
}

// Close closes the prepared statements and the database. The Store is not
// usable afterwards.
func (s *Store) Close() error {
	return errors.Join(s.stmts.close(), s.db.Close())
}

// Path is the database file's path, for messages and for sqlite3.
func (s *Store) Path() string { return s.path }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// wrapOpenErr turns SQLite's "file is not a database" and "database disk
// image is malformed" into ErrNotAStore,
// naming the path; any other error is wrapped with the path.
func (s *Store) wrapOpenErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqliteNotADB || se.Code()&0xff == sqliteCorrupt) {
		return fmt.Errorf("%s: %w (%v)", s.path, ErrNotAStore, err)
	}
	return fmt.Errorf("store %s: %w", s.path, err)
}

// migrate checks the file's identity and applies the schema files it lacks,
// all in one transaction that holds the write lock, so that two processes
// opening a new store at once apply them once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrapOpenErr(err)
	}
	defer tx.Rollback()

	var objects int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&objects); err != nil {
		return s.wrapOpenErr(err)
	}
	version := 0
	if objects > 0 {
		var appID int64
		if err := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
			return s.wrapOpenErr(err)
		}
		if appID != applicationID {
			return fmt.Errorf("%s: %w (a SQLite database of another program: application_id %d)",
				s.path, ErrNotAStore, appID)
		}
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
		if err != nil {
			return fmt.Errorf("%s: %w (no schema version: %v)", s.path, ErrNotAStore, err)
		}
		version, err = strconv.Atoi(v)
		if err != nil || version < 1 {
			return fmt.Errorf("%s: %w (schema version %q)", s.path, ErrNotAStore, v)
		}
	}
	if version > len(ms) {
		return fmt.Errorf("%s: %w: its schema version is %d, this futures knows up to %d",
			s.path, ErrSchemaTooNew, version, len(ms))
	}
	if version == len(ms) {
		return nil
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store %s: applying %s: %w", s.path, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO meta (key, value) VALUES ('schema_version', ?)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		strconv.Itoa(len(ms))); err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in one write transaction and commits it; fn's error, or a
// failure to commit, rolls it back. The queries of prepared are prepared
// first, when they are not yet (stmtCache), for fn to run them through
// tx.exec, tx.queryRow and tx.prepare.
func (s *Store) write(ctx context.Context, prepared []string, fn func(tx *txn) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.stmts.prepare(ctx, s.db, prepared...)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if err := fn(newTxn(tx, &s.stmts)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	return nil
}

// ms is t as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }
