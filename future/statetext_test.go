package future

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAStateIsItsNameInJSON(t *testing.T) {
	for _, st := range []State{Pending, Running, Cancelled, Finished} {
		b, err := json.Marshal(st)
		if err != nil || string(b) != `"`+st.String()+`"` {
			t.Errorf("json.Marshal(%v) = %s, %v; want %q", st, b, err, st.String())
		}
		var back State = -1
		if err := json.Unmarshal(b, &back); err != nil || back != st {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, back, err, st)
		}
	}
	var st State
	if err := st.UnmarshalText([]byte("DONE")); !errors.Is(err, ErrInvalidState) {
		t.Errorf(`UnmarshalText("DONE") = %v; want ErrInvalidState`, err)
	}
}
