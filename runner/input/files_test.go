package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/futures-cli/futures/internal/testwait"
)

// writeFiles writes each name: text in a new directory and returns its path.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFilesOpen(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a1\na2\n", "b": "b1\n"})
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"no FILE reads stdin", nil, "s1\n"},
		{"FILEs are read in order, as one stream", []string{b, a}, "b1\na1\na2\n"},
		{"- among them is stdin", []string{a, "-", b}, "a1\na2\ns1\nb1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Files{Stdin: strings.NewReader("s1\n")}
			defer f.Close()
			r, close, err := f.Open(tc.names)
			if err != nil {
				t.Fatal(err)
			}
			defer close()
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tc.want {
				t.Errorf("read %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestFilesOpenErrorsNameTheFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n"})
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"a missing FILE", []string{filepath.Join(dir, "a"), missing}, "cannot read input: " + missing + ": no such file or directory"},
		{"a directory", []string{dir}, "cannot read input: " + dir + ": is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Files{}
			r, _, err := f.Open(tc.names)
			if err == nil || err.Error() != tc.want || r != nil {
				t.Errorf("%v (reader %v); want %q", err, r, tc.want)
			}
			if _, _, err := f.OpenEach(tc.names); err == nil || err.Error() != tc.want {
				t.Errorf("OpenEach: %v; want %q", err, tc.want)
			}
		})
	}
}

func TestFilesOpenEachNamesItsInputs(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a\n"})
	a := filepath.Join(dir, "a")
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{nil, []string{"stdin:s"}},
		{[]string{a, "-"}, []string{a + ":a\n", "stdin:s"}},
	} {
		f := &Files{Stdin: strings.NewReader("s")}
		ins, close, err := f.OpenEach(tc.names)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range ins {
			b, _ := io.ReadAll(in.R)
			got = append(got, in.Name+":"+string(b))
		}
		close()
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: inputs %q, want %q", tc.names, got, tc.want)
		}
	}
}

// fifo makes a named pipe and holds it open for writing (so that opening
// it for reading does not wait), writing nothing: a read of it waits.
func fifo(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return name
}

func TestFilesStopInterruptsAWaitingRead(t *testing.T) {
	f := &Files{}
	r, close, err := f.Open([]string{fifo(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer close()
	read := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 1))
		read <- err
	}()
	// Stop once the read waits on the poller: a Stop before it would give
	// the same error (TestFilesStopHoldsForFilesOpenedLater).
	testwait.Until(t, time.Minute, "the read to wait", func() (bool, string) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("TestFilesStopInterruptsAWaitingRead.func")) &&
				bytes.Contains(g, []byte("[IO wait")) {
				return true, ""
			}
		}
		return false, "no goroutine of the test's read in IO wait"
	})
	f.Stop()
	select {
	case err := <-read:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read after Stop: %v, want %v", err, os.ErrDeadlineExceeded)
		}
	case <-time.After(time.Minute):
		t.Fatal("the read still waits a minute after Stop")
	}
}

func TestFilesStopHoldsForFilesOpenedLater(t *testing.T) {
	f := &Files{}
	f.Stop()
	r, close, err := f.Open([]string{fifo(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer close()
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read: %v, want %v", err, os.ErrDeadlineExceeded)
	}
}

func TestFilesCheckOutputs(t *testing.T) {
	dir := writeFiles(t, map[string]string{"items": "a\n", "other": "b\n", "hosts": "h\n"})
	items, other, hosts := filepath.Join(dir, "items"), filepath.Join(dir, "other"), filepath.Join(dir, "hosts")
	link := filepath.Join(dir, "link")
	if err := os.Link(items, link); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	for _, tc := range []struct {
		name    string
		inputs  []string // opened; "-" is stdin, the file other
		outputs []Output
		also    []string
		want    string // "": no error
	}{
		{"an output that is not an input", []string{items}, []Output{{"--joblog", other}}, nil, ""},
		{"an output not there yet", []string{items}, []Output{{"--joblog", filepath.Join(dir, "new")}}, nil, ""},
		{"no output", []string{items}, []Output{{"--joblog", ""}}, nil, ""},
		{"the joblog is an input", []string{items}, []Output{{"--joblog", items}},
			nil, "--joblog " + items + " is also an input (" + items + "): it would be overwritten; write it elsewhere"},
		{"another path to an input: a hard link", []string{items}, []Output{{"--joblog", ""}, {"--results", link}},
			nil, "--results " + link + " is also an input (" + items + "): it would be overwritten; write it elsewhere"},
		{"stdin is named stdin", []string{"-"}, []Output{{"--joblog", other}},
			nil, "--joblog " + other + " is also an input (stdin): it would be overwritten; write it elsewhere"},
		{"a file the run reads by itself", []string{items}, []Output{{"--joblog", hosts}},
			[]string{"", hosts}, "--joblog " + hosts + " is also an input (" + hosts + "): it would be overwritten; write it elsewhere"},
		{"only regular files are compared", []string{os.DevNull}, []Output{{"--joblog", os.DevNull}}, []string{os.DevNull}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Files{Stdin: stdin}
			defer f.Close()
			_, close, err := f.Open(tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			defer close()
			err = f.CheckOutputs(tc.outputs, tc.also...)
			if got := errString(err); got != tc.want {
				t.Errorf("CheckOutputs: %q, want %q", got, tc.want)
			}
		})
	}
}

// errString is err's message, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A single FILE is handed over as the *os.File itself, not wrapped, so
// that --pipe can see a regular file and cut it by offset.
func TestFilesOpenOneFileIsTheFileItself(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a": "a1\n"})
	f := &Files{Stdin: strings.NewReader("s1\n")}
	defer f.Close()
	r, close, err := f.Open([]string{filepath.Join(dir, "a")})
	if err != nil {
		t.Fatal(err)
	}
	defer close()
	file, ok := r.(*os.File)
	if !ok {
		t.Fatalf("Open of one FILE returned a %T, not the *os.File", r)
	}
	if got, err := io.ReadAll(file); err != nil || string(got) != "a1\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}
