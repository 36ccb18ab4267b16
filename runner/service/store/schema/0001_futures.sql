-- 0001: futures, their transitions and their done-callbacks.
-- Times are Unix milliseconds (INTEGER); read them with
-- datetime(submitted_ms / 1000, 'unixepoch').

-- The file's identity: 'FUTR' as a 32-bit integer. Open refuses a SQLite
-- file that is not empty and carries another application_id.
PRAGMA application_id = 1179997266;

-- meta holds key/value facts about the store; 'schema_version' is the
-- number of the last schema file applied.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per future. AUTOINCREMENT: an id is never handed out twice, even
-- after its row was forgotten (sqlite_sequence keeps the highest).
CREATE TABLE futures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client       TEXT    NOT NULL DEFAULT '',   -- who submitted it
    line         TEXT    NOT NULL,              -- the command line, as written
    argv         TEXT,                          -- JSON array; NULL: line runs in a shell
    dir          TEXT    NOT NULL DEFAULT '',   -- working directory; '' the service's
    env          TEXT,                          -- JSON array of KEY=VALUE added
    state        TEXT    NOT NULL DEFAULT 'PENDING'
                 CHECK (state IN ('PENDING', 'RUNNING', 'CANCELLED', 'FINISHED')),
    exit_code    INTEGER,                       -- set exactly when FINISHED
    signal       TEXT    NOT NULL DEFAULT '',   -- 'SIGKILL' when a signal killed it
    error        TEXT    NOT NULL DEFAULT '',   -- why it failed to start, or broke
    error_kinds  TEXT,                          -- JSON array of error kinds (not_found…)
    broken       INTEGER NOT NULL DEFAULT 0 CHECK (broken IN (0, 1)),
    submitted_ms INTEGER NOT NULL,
    started_ms   INTEGER,
    finished_ms  INTEGER,
    worker       TEXT    NOT NULL DEFAULT '',
    host         TEXT    NOT NULL DEFAULT '',
    max_rss_kb   INTEGER NOT NULL DEFAULT 0,
    user_ms      INTEGER NOT NULL DEFAULT 0,
    sys_ms       INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'FINISHED') = (exit_code IS NOT NULL)),
    CHECK (broken = 0 OR state = 'FINISHED')
) STRICT;

CREATE INDEX futures_state ON futures (state);

-- Every change of a future's state, the first (NULL → PENDING) included.
CREATE TABLE transitions (
    future_id  INTEGER NOT NULL REFERENCES futures (id) ON DELETE CASCADE,
    from_state TEXT,                            -- NULL for the submit
    to_state   TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX transitions_future ON transitions (future_id);

-- The only moves a future makes; anything else is refused by the database
-- itself, whoever writes (PENDING → FINISHED only as broken).
CREATE TRIGGER futures_legal_move BEFORE UPDATE OF state ON futures
WHEN NOT (
       old.state = new.state
    OR (old.state = 'PENDING' AND new.state IN ('RUNNING', 'CANCELLED'))
    OR (old.state = 'RUNNING' AND new.state = 'FINISHED')
    OR (old.state = 'PENDING' AND new.state = 'FINISHED' AND new.broken = 1)
)
BEGIN
    SELECT RAISE(ABORT, 'illegal state move');
END;

-- Commands to run when a future is done, in the order added (seq).
CREATE TABLE callbacks (
    future_id INTEGER NOT NULL REFERENCES futures (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,                 -- 1, 2, … per future
    argv      TEXT    NOT NULL,                 -- JSON array
    added_ms  INTEGER NOT NULL,
    ran_ms    INTEGER,                          -- NULL until it ran
    exit_code INTEGER,                          -- its exit status, once it ran
    error     TEXT    NOT NULL DEFAULT '',      -- why it could not run
    PRIMARY KEY (future_id, seq)
) STRICT;
