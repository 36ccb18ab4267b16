package job

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
)

func TestAnErrorKeepsItsKindsAcrossTheWire(t *testing.T) {
	held := fmt.Errorf("%w; stopped reading 2s after the job ended", ErrHeldOutput)
	for _, tt := range []struct {
		name  string
		err   error
		kinds []string
	}{
		{"no error has no kinds", nil, nil},
		{"a plain error has none", errors.New("writing output: broken pipe"), nil},
		{"not found", fmt.Errorf("nope: %w", ErrNotFound), []string{"not_found"}},
		{"not executable", fmt.Errorf("x: %w: %w", ErrNotExecutable, syscall.EACCES), []string{"not_executable"}},
		{"held output joined with another error", errors.Join(errors.New("writing output: EPIPE"), held), []string{"held_output"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kinds := Kinds(tt.err)
			if !slices.Equal(kinds, tt.kinds) {
				t.Fatalf("Kinds = %q, want %q", kinds, tt.kinds)
			}
			if tt.err == nil {
				if FromWire("", kinds) != nil {
					t.Fatal("FromWire of no message is not nil")
				}
				return
			}
			got := FromWire(tt.err.Error(), kinds)
			if got.Error() != tt.err.Error() {
				t.Errorf("text %q, want %q", got, tt.err)
			}
			for _, s := range []error{ErrNotFound, ErrNotExecutable, ErrHeldOutput} {
				if errors.Is(got, s) != errors.Is(tt.err, s) {
					t.Errorf("errors.Is(_, %v) = %v after the wire, %v before", s, errors.Is(got, s), errors.Is(tt.err, s))
				}
			}
		})
	}
}

func TestFromWireIgnoresKindsItDoesNotKnow(t *testing.T) {
	err := FromWire("x", []string{"from_a_newer_peer", "not_found"})
	if err.Error() != "x" || !errors.Is(err, ErrNotFound) || errors.Is(err, ErrHeldOutput) {
		t.Errorf("got %v (not found: %v)", err, errors.Is(err, ErrNotFound))
	}
}

func TestRefusalNames(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN} {
		if got := RefusalErrno(RefusalName(errno)); got != errno {
			t.Errorf("%v: name %q gives back %v", errno, RefusalName(errno), got)
		}
	}
	if RefusalName(syscall.EBADF) != "" || RefusalName(0) != "" || RefusalErrno("EBADF") != 0 {
		t.Error("an errno that is not a refusal has a name")
	}
}
