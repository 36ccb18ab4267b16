package service

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/futures-cli/futures/runner/service/store"
)

// LostSubmit, after a submit's connection broke, finds the futures the
// dead service committed for this client, final, whether no service runs
// now or another client started a new one meanwhile; when the service it
// talked to still runs, it knows nothing.
func TestLostSubmit(t *testing.T) {
	for _, tc := range []struct {
		name string
		// newService: a service runs when LostSubmit is called, with pid
		// ours (the one the client talked to: it still runs) or another.
		newService bool
		samePID    bool
		wantIDs    []int64
		wantAlive  bool
	}{
		{name: "no service runs: it breaks them", wantIDs: []int64{3, 4}},
		{name: "another service took its place", newService: true, wantIDs: []int64{3, 4}},
		{name: "the one it talked to still runs", newService: true, samePID: true, wantAlive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPaths(t, "lost")
			if err := p.Ensure(); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(p.StateDir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c := context.Background()
			// %1 another client's, %2 ours and printed, before since;
			// %3 and %4 ours, committed, never printed.
			if _, err := st.Submit(c, []store.Spec{{Client: "other", Line: "a"}, {Client: "me", Line: "b"}}); err != nil {
				t.Fatal(err)
			}
			since := time.Now()
			if _, err := st.Submit(c, []store.Spec{{Client: "me", Line: "c"}, {Client: "me", Line: "d"}}); err != nil {
				t.Fatal(err)
			}
			dead := 1 // init: not a service of this test
			if tc.newService {
				cancel, done := runService(t, p)
				defer func() { cancel(); awaitRun(t, done) }()
				if tc.samePID {
					dead = ServicePID(p)
				}
			}
			s, err := OpenSession(p)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			patience := 30 * time.Second // a hang detector
			if tc.wantAlive {
				patience = 100 * time.Millisecond // what it waits before it says so
			}
			ids, alive, err := s.LostSubmit(c, dead, "me", since, 2, patience)
			if err != nil || alive != tc.wantAlive || !slices.Equal(ids, tc.wantIDs) {
				t.Fatalf("LostSubmit = %v, alive %v, %v; want %v, alive %v", ids, alive, err, tc.wantIDs, tc.wantAlive)
			}
			for _, id := range ids {
				f, err := st.Get(c, id)
				if err != nil || !f.Broken {
					t.Errorf("%%%d: %+v, %v; want it broken", id, f, err)
				}
			}
		})
	}
}
