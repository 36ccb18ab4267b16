package input

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// selectPipe returns a selectReader of a pipe's read end, made blocking as
// an inherited stdin is, and the pipe's write end.
func selectPipe(t *testing.T) (r *selectReader, w *os.File) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	fd := int(pr.Fd()) // blocking, as an inherited stdin is
	sr, err := newSelectReader(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sr.close)
	return sr, pw
}

// TestSelectReader: stdin read as on macOS and FreeBSD (and on Linux with
// FUTURES_FORCE_PORTABLE=1), where it cannot be opened anew.
func TestSelectReader(t *testing.T) {
	t.Run("what is written is read, then EOF", func(t *testing.T) {
		sr, w := selectPipe(t)
		go func() { _, _ = w.WriteString("a\nb\n"); w.Close() }()
		got, err := io.ReadAll(sr)
		if err != nil || string(got) != "a\nb\n" {
			t.Fatalf("read %q, %v", got, err)
		}
	})
	t.Run("stop ends a read that waits, and every read after", func(t *testing.T) {
		sr, _ := selectPipe(t)
		done := make(chan error, 1)
		go func() {
			_, err := sr.Read(make([]byte, 10))
			done <- err
		}()
		sr.stop()
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the waiting read: %v, want os.ErrDeadlineExceeded", err)
			}
		case <-time.After(30 * time.Second): // a hang detector only
			t.Fatal("stop did not end the read")
		}
		if _, err := sr.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a read after stop: %v", err)
		}
	})
	t.Run("close stops, and a read after close ends at once", func(t *testing.T) {
		sr, _ := selectPipe(t)
		sr.close()
		if _, err := sr.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a read after close: %v", err)
		}
	})
}
