package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestClosingAnAttachmentDoesNotWaitForItsAnswerToEnd: the attachment's
// answer is held open by the service until the run detaches; closing it
// on the client closes the connection rather than reading the answer to
// its end (which never comes), and a cancelled context ends a call.
func TestClosingAnAttachmentDoesNotWaitForItsAnswerToEnd(t *testing.T) {
	p := testPaths(t, "attclose")
	runService(t, p)
	a, err := AttachRun(context.Background(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second): // a hang detector only
		t.Fatal("Attached.Close waited for the held answer to end")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(p).Service(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a call with a cancelled context: %v, want context.Canceled", err)
	}
}
