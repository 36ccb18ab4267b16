package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool/job"
)

var ctx = context.Background()

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func submit(t testing.TB, s *Store, n int) []int64 {
	t.Helper()
	specs := make([]Spec, n)
	for i := range specs {
		specs[i] = Spec{Client: "c", Line: fmt.Sprintf("echo %d", i), Argv: []string{"echo", strconv.Itoa(i)}}
	}
	ids, err := s.Submit(ctx, specs)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if len(ids) != n {
		t.Fatalf("Submit returned %d ids, want %d", len(ids), n)
	}
	return ids
}

func get(t *testing.T, s *Store, id int64) *Future {
	t.Helper()
	f, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return f
}

var t0 = time.UnixMilli(1_700_000_000_000)

// reach puts a new future in the named state and returns its id.
func reach(t *testing.T, s *Store, st string) int64 {
	t.Helper()
	id := submit(t, s, 1)[0]
	switch st {
	case "PENDING":
	case "RUNNING", "FINISHED":
		if ok, err := s.Start(ctx, id, "w1", "host1", t0); !ok || err != nil {
			t.Fatalf("Start: %v, %v", ok, err)
		}
		if st == "FINISHED" {
			if err := s.Finish(ctx, id, job.Outcome{ExitCode: 3, Start: t0, Duration: time.Second}); err != nil {
				t.Fatalf("Finish: %v", err)
			}
		}
	case "CANCELLED":
		if not, err := s.Cancel(ctx, []int64{id}); len(not) > 0 || err != nil {
			t.Fatalf("Cancel: %v, %v", not, err)
		}
	default:
		t.Fatalf("no state %s", st)
	}
	return id
}

func TestMoves(t *testing.T) {
	s := open(t, t.TempDir())
	// Each legal and illegal move from each state: the state after it,
	// the error it wraps, and for Start and Cancel what they report.
	tests := []struct {
		from, move string
		want       future.State
		wantErr    error
		started    bool // Start's report
		refused    bool // Cancel reports the id as not cancelled
	}{
		{"PENDING", "start", future.Running, nil, true, false},
		{"PENDING", "finish", future.Pending, ErrIllegalMove, false, false},
		{"PENDING", "cancel", future.Cancelled, nil, false, false},
		{"RUNNING", "start", future.Running, ErrIllegalMove, false, false},
		{"RUNNING", "finish", future.Finished, nil, false, false},
		{"RUNNING", "cancel", future.Running, nil, false, true},
		{"CANCELLED", "start", future.Cancelled, nil, false, false},
		{"CANCELLED", "finish", future.Cancelled, ErrIllegalMove, false, false},
		{"CANCELLED", "cancel", future.Cancelled, nil, false, false},
		{"FINISHED", "start", future.Finished, ErrIllegalMove, false, false},
		{"FINISHED", "finish", future.Finished, ErrIllegalMove, false, false},
		{"FINISHED", "cancel", future.Finished, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.move, func(t *testing.T) {
			id := reach(t, s, tt.from)
			before, err := s.Transitions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var started, refused bool
			switch tt.move {
			case "start":
				started, err = s.Start(ctx, id, "w2", "host2", t0.Add(time.Minute))
			case "finish":
				err = s.Finish(ctx, id, job.Outcome{ExitCode: 0, Start: t0, Duration: 2 * time.Second})
			case "cancel":
				var not []int64
				not, err = s.Cancel(ctx, []int64{id})
				refused = len(not) == 1 && not[0] == id
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("%s: error %v, want %v", tt.move, err, tt.wantErr)
			}
			if started != tt.started || refused != tt.refused {
				t.Errorf("%s: started %v refused %v, want %v %v", tt.move, started, refused, tt.started, tt.refused)
			}
			f := get(t, s, id)
			if f.State != tt.want {
				t.Errorf("state %s, want %s", f.State, tt.want)
			}
			after, err := s.Transitions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// A move records one transition; no move records none.
			moved := f.State.String() != tt.from
			if wantN := len(before) + map[bool]int{true: 1}[moved]; len(after) != wantN {
				t.Fatalf("transitions %v, want %d", after, wantN)
			}
			if moved {
				last := after[len(after)-1]
				if last.From.String() != tt.from || last.To != tt.want {
					t.Errorf("last transition %s → %s, want %s → %s", last.From, last.To, tt.from, tt.want)
				}
			}
			if first := after[0]; first.From != -1 || first.To != future.Pending {
				t.Errorf("first transition %v, want the submit", first)
			}
			if (f.State == future.Finished) != (f.ExitCode != -1) {
				t.Errorf("state %s with exit code %d", f.State, f.ExitCode)
			}
		})
	}
}

func TestUnknownID(t *testing.T) {
	s := open(t, t.TempDir())
	id := reach(t, s, "PENDING")
	const none = 999
	checks := map[string]func() error{
		"Get":         func() error { _, err := s.Get(ctx, none); return err },
		"Start":       func() error { _, err := s.Start(ctx, none, "", "", t0); return err },
		"Finish":      func() error { return s.Finish(ctx, none, job.Outcome{}) },
		"Cancel":      func() error { _, err := s.Cancel(ctx, []int64{id, none}); return err },
		"Forget":      func() error { _, err := s.Forget(ctx, []int64{none}); return err },
		"AddCallback": func() error { _, err := s.AddCallback(ctx, none, []string{"true"}); return err },
	}
	for name, fn := range checks {
		err := fn()
		if !errors.Is(err, ErrNoFuture) || !strings.Contains(err.Error(), "999") {
			t.Errorf("%s: %v, want ErrNoFuture naming 999", name, err)
		}
	}
	// Cancel with an unknown id cancelled nothing.
	if f := get(t, s, id); f.State != future.Pending {
		t.Errorf("after a refused Cancel, %d is %s", id, f.State)
	}
}

func TestFinishRecordsOutcome(t *testing.T) {
	s := open(t, t.TempDir())
	id := reach(t, s, "RUNNING")
	o := job.Outcome{
		ExitCode: 127, Signal: "", Err: fmt.Errorf("nosuch: %w", job.ErrNotFound),
		Start: t0, Duration: 1500 * time.Millisecond,
		MaxRSSKB: 2048, User: 30 * time.Millisecond, Sys: 20 * time.Millisecond,
	}
	if err := s.Finish(ctx, id, o); err != nil {
		t.Fatal(err)
	}
	f := get(t, s, id)
	want := &Future{
		ID:   id,
		Spec: Spec{Client: "c", Line: "echo 0", Argv: []string{"echo", "0"}},
		// Submitted is the store's clock: copied below.
		State: future.Finished, ExitCode: 127, Error: "nosuch: command not found",
		ErrorKinds: []string{"not_found"}, Started: t0, Finished: t0.Add(1500 * time.Millisecond),
		Worker: "w1", Host: "host1", MaxRSSKB: 2048, User: 30 * time.Millisecond, Sys: 20 * time.Millisecond,
	}
	want.Submitted = f.Submitted
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
	if !errors.Is(job.FromWire(f.Error, f.ErrorKinds), job.ErrNotFound) {
		t.Errorf("error kinds %v do not give back job.ErrNotFound", f.ErrorKinds)
	}
}

func TestTriggerRefusesIllegalMove(t *testing.T) {
	s := open(t, t.TempDir())
	id := reach(t, s, "FINISHED")
	pending := reach(t, s, "PENDING")
	for _, q := range []string{
		`UPDATE futures SET state = 'PENDING', exit_code = NULL WHERE id = ` + strconv.FormatInt(id, 10),
		`UPDATE futures SET state = 'FINISHED', exit_code = 0 WHERE id = ` + strconv.FormatInt(pending, 10),
		`UPDATE futures SET state = 'DONE' WHERE id = ` + strconv.FormatInt(pending, 10),
	} {
		if _, err := s.db.Exec(q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

func TestIDsNeverReused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	done := reach(t, s, "FINISHED")
	cancelled := reach(t, s, "CANCELLED")
	running := reach(t, s, "RUNNING")
	out, errf := s.OutputPaths(done)
	fo, fe, err := s.CreateOutput(done)
	if err != nil {
		t.Fatal(err)
	}
	fo.Close()
	fe.Close()

	not, err := s.Forget(ctx, []int64{done, running})
	if err != nil || !reflect.DeepEqual(not, []int64{running}) {
		t.Fatalf("Forget: not forgotten %v, %v; want [%d]", not, err, running)
	}
	if _, err := s.Get(ctx, done); !errors.Is(err, ErrNoFuture) {
		t.Errorf("Get of a forgotten future: %v", err)
	}
	for _, p := range []string{out, errf} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Forget: %v", p, err)
		}
	}
	if tr, _ := s.Transitions(ctx, done); len(tr) != 0 {
		t.Errorf("transitions left after Forget: %v", tr)
	}
	gone, err := s.ForgetAll(ctx)
	if err != nil || !reflect.DeepEqual(gone, []int64{cancelled}) {
		t.Fatalf("ForgetAll: %v, %v; want [%d]", gone, err, cancelled)
	}
	if _, err := s.BreakUnfinished(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.ForgetAll(ctx); err != nil || len(gone) != 1 {
		t.Fatalf("ForgetAll: %v, %v", gone, err)
	}
	if all, _ := s.List(ctx, Filter{}); len(all) != 0 {
		t.Fatalf("rows left: %d", len(all))
	}
	// The table is empty: the next id is still past every id handed out,
	// in this Store and in a fresh one.
	if next := submit(t, s, 1)[0]; next != running+1 {
		t.Errorf("next id %d, want %d", next, running+1)
	}
	s.Close()
	s2 := open(t, dir)
	if next := submit(t, s2, 1)[0]; next != running+2 {
		t.Errorf("next id after reopening %d, want %d", next, running+2)
	}
}

func TestSubmitTenThousand(t *testing.T) {
	s := open(t, t.TempDir())
	ids := submit(t, s, 10_000)
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("ids[%d] = %d", i, id)
		}
	}
	all, err := s.List(ctx, Filter{States: []future.State{future.Pending}})
	if err != nil || len(all) != 10_000 {
		t.Fatalf("List: %d, %v", len(all), err)
	}
	if all[9999].Spec.Line != "echo 9999" {
		t.Errorf("last line %q", all[9999].Spec.Line)
	}
}

// TestConcurrentSubmit: 50 clients submit 200 futures each at once, on
// one Store and on two Stores of one directory (two processes): 10,000
// unique ids, each the row its client submitted. Each client submits one
// future a call (10,000 transactions); under the race detector, 8 a call
// (1,250 transactions), to keep the test's time reasonable.
func TestConcurrentSubmit(t *testing.T) {
	const clients, each = 50, 200
	perCall := 1
	if raceEnabled {
		perCall = 8
	}
	for _, handles := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d-handles", handles), func(t *testing.T) {
			dir := t.TempDir()
			stores := make([]*Store, handles)
			for i := range stores {
				stores[i] = open(t, dir)
			}
			got := make([][]int64, clients)
			errs := make([]error, clients)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					s := stores[c%handles]
					for i := 0; i < each; i += perCall {
						var specs []Spec
						for j := i; j < i+perCall && j < each; j++ {
							specs = append(specs, Spec{Client: strconv.Itoa(c), Line: strconv.Itoa(j)})
						}
						ids, err := s.Submit(ctx, specs)
						if err != nil {
							errs[c] = err
							return
						}
						got[c] = append(got[c], ids...)
					}
				})
			}
			wg.Wait()
			seen := map[int64]bool{}
			for c := range clients {
				if errs[c] != nil {
					t.Fatalf("client %d: %v", c, errs[c])
				}
				for _, id := range got[c] {
					if seen[id] {
						t.Fatalf("id %d handed out twice", id)
					}
					seen[id] = true
				}
			}
			if len(seen) != clients*each {
				t.Fatalf("%d ids, want %d", len(seen), clients*each)
			}
			// Each id is the row its client submitted.
			rows, err := stores[0].db.Query(`SELECT id, client, line FROM futures`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			type row struct{ client, line string }
			byID := map[int64]row{}
			for rows.Next() {
				var id int64
				var r row
				if err := rows.Scan(&id, &r.client, &r.line); err != nil {
					t.Fatal(err)
				}
				byID[id] = r
			}
			if err := rows.Err(); err != nil || len(byID) != clients*each {
				t.Fatalf("%d rows, %v", len(byID), err)
			}
			for c := range clients {
				for i, id := range got[c] {
					if r := byID[id]; r != (row{strconv.Itoa(c), strconv.Itoa(i)}) {
						t.Fatalf("id %d is %+v, want client %d line %d", id, r, c, i)
					}
				}
			}
		})
	}
}

func TestBreakUnfinished(t *testing.T) {
	s := open(t, t.TempDir())
	ids := map[string]int64{}
	for _, st := range []string{"PENDING", "RUNNING", "CANCELLED", "FINISHED"} {
		ids[st] = reach(t, s, st)
	}
	before := map[string]*Future{}
	for st, id := range ids {
		before[st] = get(t, s, id)
	}
	broke, err := s.BreakUnfinished(ctx, "the service died")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{ids["PENDING"], ids["RUNNING"]}; !reflect.DeepEqual(broke, want) {
		t.Errorf("broke %v, want %v", broke, want)
	}
	for _, st := range []string{"CANCELLED", "FINISHED"} {
		if f := get(t, s, ids[st]); !reflect.DeepEqual(f, before[st]) {
			t.Errorf("%s future changed:\n%+v\n%+v", st, before[st], f)
		}
	}
	for _, st := range []string{"PENDING", "RUNNING"} {
		f := get(t, s, ids[st])
		if f.State != future.Finished || !f.Broken || f.ExitCode != -1 || f.Error != "the service died" || f.Finished.IsZero() {
			t.Errorf("%s future after BreakUnfinished: %+v", st, f)
		}
		tr, _ := s.Transitions(ctx, ids[st])
		if last := tr[len(tr)-1]; last.From.String() != st || last.To != future.Finished {
			t.Errorf("%s: last transition %v", st, last)
		}
	}
	if broke, err := s.BreakUnfinished(ctx, "again"); err != nil || len(broke) != 0 {
		t.Errorf("a second BreakUnfinished broke %v, %v", broke, err)
	}
}

func TestCallbacks(t *testing.T) {
	s := open(t, t.TempDir())
	id := reach(t, s, "RUNNING")
	other := reach(t, s, "PENDING")
	for i, argv := range [][]string{{"echo", "one"}, {"sh", "-c", "exit 3"}, {"echo", "three"}} {
		seq, err := s.AddCallback(ctx, id, argv)
		if err != nil || seq != i+1 {
			t.Fatalf("AddCallback %d: %d, %v", i, seq, err)
		}
	}
	if _, err := s.AddCallback(ctx, other, []string{"true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCallback(ctx, id, nil); err == nil {
		t.Error("an empty callback was added")
	}
	if err := s.MarkCallbackRan(ctx, id, 2, t0, 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCallbackRan(ctx, id, 4, t0, 0, nil); !errors.Is(err, ErrNoCallback) {
		t.Errorf("MarkCallbackRan of callback 4: %v", err)
	}
	cbs, err := s.Callbacks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cbs {
		got = append(got, fmt.Sprintf("%d %v ran=%v exit=%d", c.Seq, c.Argv, !c.Ran.IsZero(), c.ExitCode))
	}
	want := []string{"1 [echo one] ran=false exit=-1", "2 [sh -c exit 3] ran=true exit=3", "3 [echo three] ran=false exit=-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("callbacks\n%q\nwant\n%q", got, want)
	}
}

func TestList(t *testing.T) {
	s := open(t, t.TempDir())
	p := reach(t, s, "PENDING")
	r := reach(t, s, "RUNNING")
	f := reach(t, s, "FINISHED")
	other, _ := s.Submit(ctx, []Spec{{Client: "other", Line: "true"}})
	tests := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all", Filter{}, []int64{p, r, f, other[0]}},
		{"ids", Filter{IDs: []int64{f, p, 999}}, []int64{p, f}},
		{"states", Filter{States: []future.State{future.Running, future.Finished}}, []int64{r, f}},
		{"client", Filter{Client: "other"}, other},
		{"client and state", Filter{Client: "c", States: []future.State{future.Pending}}, []int64{p}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, fu := range got {
				ids = append(ids, fu.ID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestOpenModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "default")
	s := open(t, dir)
	reach(t, s, "PENDING")
	fo, fe, err := s.CreateOutput(1)
	if err != nil {
		t.Fatal(err)
	}
	fo.Close()
	fe.Close()
	o, e := s.OutputPaths(1)
	for path, want := range map[string]os.FileMode{
		dir:                                 0o700 | os.ModeDir,
		filepath.Join(dir, OutDir):          0o700 | os.ModeDir,
		filepath.Join(dir, DBName):          0o600,
		filepath.Join(dir, DBName) + "-wal": 0o600,
		o:                                   0o600,
		e:                                   0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v", mode, err)
	}
}

func TestOpenNotAStore(t *testing.T) {
	foreign := func(t *testing.T, path string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
			t.Fatal(err)
		}
	}
	store := func(t *testing.T, path string) {
		s, err := Open(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	tests := []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not a database\n", 400)), 0o600)
		}},
		{"short garbage", func(t *testing.T, path string) { os.WriteFile(path, []byte("x"), 0o600) }},
		{"foreign sqlite", foreign},
		{"foreign sqlite with a meta table", func(t *testing.T, path string) {
			foreign(t, path)
			db, _ := sql.Open("sqlite", path)
			defer db.Close()
			if _, err := db.Exec(`CREATE TABLE meta (key TEXT, value TEXT)`); err != nil {
				t.Fatal(err)
			}
		}},
		{"store header, garbage pages", func(t *testing.T, path string) {
			store(t, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			for i := 100; i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(path, b, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DBName)
			tt.write(t, path)
			before, _ := os.ReadFile(path)
			s, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrNotAStore) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: %v; want ErrNotAStore naming %s", err, path)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Errorf("Open changed the file")
			}
		})
	}
}

func TestOpenSchemaTooNew(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	var v string
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != "1" {
		t.Fatalf("schema_version %q, %v", v, err)
	}
	if _, err := s.db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(dir)
	path := filepath.Join(dir, DBName)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "99") {
		t.Errorf("Open: %v; want ErrSchemaTooNew naming %s and version 99", err, path)
	}
}

func TestOpenTwiceAppliesSchemaOnce(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(dir)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// TestCrashAfterCommit: a process that submits and dies by SIGKILL the
// moment Submit returns, before closing anything, left rows that a fresh
// Open reads: an id handed out is on disk.
func TestCrashAfterCommit(t *testing.T) {
	if dir := os.Getenv("STORE_TEST_CRASH_DIR"); dir != "" {
		s, err := Open(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		ids, err := s.Submit(ctx, []Spec{{Line: "one"}, {Line: "two"}})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(ids[0], ids[1])
		os.Stdout.Sync()
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAfterCommit$")
	cmd.Env = append(os.Environ(), "STORE_TEST_CRASH_DIR="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, output %q; want killed by SIGKILL", err, out)
	}
	var a, b int64
	if _, err := fmt.Sscan(string(out), &a, &b); err != nil {
		t.Fatalf("child printed %q: %v", out, err)
	}
	s := open(t, dir)
	for id, line := range map[int64]string{a: "one", b: "two"} {
		if f := get(t, s, id); f.Spec.Line != line || f.State != future.Pending {
			t.Errorf("future %d after the crash: %+v", id, f)
		}
	}
}

func BenchmarkSubmit(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("%d-per-call", n), func(b *testing.B) {
			s := open(b, b.TempDir())
			specs := make([]Spec, n)
			for i := range specs {
				specs[i] = Spec{Client: "bench", Line: "true", Argv: []string{"true"}}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := s.Submit(ctx, specs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/future")
		})
	}
}

// BenchmarkStartFinish is the service's bookkeeping of one future's run:
// Start (PENDING to RUNNING) and Finish (RUNNING to FINISHED), two write
// transactions. The futures are submitted a thousand a call with the
// timer stopped.
func BenchmarkStartFinish(b *testing.B) {
	s := open(b, b.TempDir())
	specs := make([]Spec, 1000)
	for i := range specs {
		specs[i] = Spec{Client: "bench", Line: "true", Argv: []string{"true"}}
	}
	o := job.Outcome{Start: t0, Duration: time.Millisecond, MaxRSSKB: 1024,
		User: time.Millisecond, Sys: time.Millisecond}
	var pending []int64
	b.ReportAllocs()
	cpu := -cpuTime(b) // the process's CPU time in the timed part
	for b.Loop() {
		if len(pending) == 0 {
			cpu += cpuTime(b)
			b.StopTimer()
			ids, err := s.Submit(ctx, specs)
			if err != nil {
				b.Fatal(err)
			}
			pending = ids
			b.StartTimer()
			cpu -= cpuTime(b)
		}
		id := pending[0]
		pending = pending[1:]
		if ok, err := s.Start(ctx, id, "slot_0", "", t0); !ok || err != nil {
			b.Fatalf("Start(%d): %v, %v", id, ok, err)
		}
		if err := s.Finish(ctx, id, o); err != nil {
			b.Fatalf("Finish(%d): %v", id, err)
		}
	}
	cpu += cpuTime(b)
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the user and system CPU time of the process so far: beside
// ns/op, which is wall time, a figure that other load on the machine
// moves less.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
