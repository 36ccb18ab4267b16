package output

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// spoolFiles lists what is in dir: a spool leaves nothing there.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSpool(t *testing.T) {
	t.Run("a small output stays in memory", func(t *testing.T) {
		dir := t.TempDir()
		b := NewBudget(1 << 20)
		s := NewSpool(dir, b)
		fmt.Fprintf(s, "hello, %s\n", "world")
		if s.file != nil {
			t.Error("a small output went to a file")
		}
		if got := s.String(); got != "hello, world\n" || s.Len() != int64(len(got)) {
			t.Errorf("String %q, Len %d", got, s.Len())
		}
		var out bytes.Buffer
		if n, err := s.WriteTo(&out); err != nil || n != 13 || out.String() != "hello, world\n" {
			t.Errorf("WriteTo wrote %d bytes %q, %v", n, out.String(), err)
		}
		if names := spoolFiles(t, dir); len(names) != 0 {
			t.Errorf("files left in the spool directory: %v", names)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if left := b.left.Load(); left != 1<<20 {
			t.Errorf("budget left %d after Close, want all of it", left)
		}
	})
	t.Run("a large output goes to an unlinked file and comes back intact", func(t *testing.T) {
		dir := t.TempDir()
		s := NewSpool(dir, NewBudget(1<<20))
		defer s.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		in := sha256.New()
		const total = 10 << 20
		chunk := make([]byte, 100<<10)
		for written := 0; written < total; {
			p := chunk[:min(1+rng.IntN(len(chunk)), total-written)]
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			in.Write(p)
			if n, err := s.Write(p); err != nil || n != len(p) {
				t.Fatalf("Write: %d, %v", n, err)
			}
			written += len(p)
		}
		if s.file == nil {
			t.Fatal("10 MiB stayed in memory")
		}
		if names := spoolFiles(t, dir); len(names) != 0 {
			t.Errorf("the temporary file is still linked: %v", names)
		}
		if s.Len() != total {
			t.Errorf("Len %d, want %d", s.Len(), total)
		}
		for range 2 { // WriteTo may be repeated
			out := sha256.New()
			if n, err := s.WriteTo(out); err != nil || n != total {
				t.Fatalf("WriteTo: %d, %v", n, err)
			}
			if !bytes.Equal(out.Sum(nil), in.Sum(nil)) {
				t.Error("the spooled output came back changed")
			}
		}
		if str := s.String(); sha256.Sum256([]byte(str)) != [32]byte(in.Sum(nil)) {
			t.Error("String differs from what was written")
		}
	})
	t.Run("the budget bounds the memory of all spools together", func(t *testing.T) {
		const budget = 256 << 10
		b := NewBudget(budget)
		dir := t.TempDir()
		spools := make([]*Spool, 40)
		for i := range spools {
			spools[i] = NewSpool(dir, b)
		}
		check := func() {
			t.Helper()
			var held int64
			for _, s := range spools {
				held += int64(cap(s.mem))
			}
			if left := b.left.Load(); left < 0 || held+left != budget {
				t.Fatalf("spools hold %d bytes in memory with %d left of a budget of %d", held, left, budget)
			}
		}
		p := bytes.Repeat([]byte("x"), 4<<10)
		for range 16 { // 64 KiB each, 2.5 MiB in all
			for _, s := range spools {
				if _, err := s.Write(p); err != nil {
					t.Fatal(err)
				}
				check()
			}
		}
		inMemory := 0
		for _, s := range spools {
			if s.file == nil {
				inMemory++
			}
			if s.Len() != 64<<10 || s.String() != strings.Repeat("x", 64<<10) {
				t.Fatalf("a spool holds %d bytes", s.Len())
			}
		}
		if inMemory == 0 || inMemory > budget/(64<<10) {
			t.Errorf("%d spools stayed in memory", inMemory)
		}
		for _, s := range spools {
			s.Close()
		}
		if left := b.left.Load(); left != budget {
			t.Errorf("budget left %d after all spools closed, want %d", left, budget)
		}
	})
	t.Run("a nil budget spools to a file from the first byte", func(t *testing.T) {
		s := NewSpool(t.TempDir(), nil)
		defer s.Close()
		s.Write([]byte("x"))
		if s.file == nil || s.String() != "x" {
			t.Errorf("file %v, content %q", s.file, s.String())
		}
	})
	t.Run("a missing directory fails Write with a message naming it", func(t *testing.T) {
		dir := t.TempDir() + "/missing"
		s := NewSpool(dir, NewBudget(0))
		defer s.Close()
		_, err := s.Write([]byte("output"))
		if err == nil || !strings.Contains(err.Error(), dir) || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Write error %v, want one naming %s", err, dir)
		}
		if _, err2 := s.Write([]byte("more")); err2 != err {
			t.Errorf("second Write returned %v, want the first error again", err2)
		}
	})
	t.Run("a write after Close fails", func(t *testing.T) {
		s := NewSpool("", NewBudget(1024))
		s.Close()
		if _, err := s.Write([]byte("late")); err == nil {
			t.Error("Write after Close succeeded")
		}
	})
}

// outputFailWriter fails every write from the n+1-th on, each time with a
// new error.
type outputFailWriter struct {
	n, writes int
	buf       bytes.Buffer
}

func (w *outputFailWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > w.n {
		return 0, fmt.Errorf("write %d failed", w.writes)
	}
	return w.buf.Write(p)
}

func TestOutput(t *testing.T) {
	t.Run("the first write error is remembered and stops later writes", func(t *testing.T) {
		w := &outputFailWriter{n: 1}
		o := NewOutput(w)
		if _, err := o.Write([]byte("first\n")); err != nil || o.Err() != nil {
			t.Fatal(err, o.Err())
		}
		_, err := o.Write([]byte("second\n"))
		if err == nil || o.Err() != err {
			t.Fatalf("Write error %v, Err %v", err, o.Err())
		}
		if _, err3 := o.Write([]byte("third\n")); err3 != err {
			t.Errorf("third Write returned %v, want the first error %v", err3, err)
		}
		if err4 := o.WriteGroup(strings.NewReader("group\n"), nil); err4 != err {
			t.Errorf("WriteGroup returned %v, want the first error %v", err4, err)
		}
		if w.writes != 2 || w.buf.String() != "first\n" {
			t.Errorf("the writer saw %d writes, %q", w.writes, w.buf.String())
		}
	})
	groups := []struct {
		name, in, prefix, want string
	}{
		{"a group without a prefix is written as it is", "a\nb", "", "a\nb"},
		{"a prefix starts every line", "a\nb\n", "x\t", "x\ta\nx\tb\n"},
		{"a prefix ends a last partial line", "a\nb", "x\t", "x\ta\nx\tb\n"},
		{"empty lines get a prefix too", "\n\n", "x\t", "x\t\nx\t\n"},
		{"an empty group writes nothing", "", "x\t", ""},
	}
	for _, tt := range groups {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := NewSpool("", NewBudget(1<<20))
			defer s.Close()
			s.Write([]byte(tt.in))
			var prefix []byte
			if tt.prefix != "" {
				prefix = []byte(tt.prefix)
			}
			if err := NewOutput(&buf).WriteGroup(s, prefix); err != nil || buf.String() != tt.want {
				t.Errorf("wrote %q, %v; want %q", buf.String(), err, tt.want)
			}
		})
	}
	t.Run("groups written concurrently are never mixed", func(t *testing.T) {
		var buf bytes.Buffer
		o := NewOutput(&buf)
		budget := NewBudget(256 << 10)
		const jobs, lines = 24, 3000 // some spools in memory, some in files
		var wg sync.WaitGroup
		for j := range jobs {
			wg.Go(func() {
				s := NewSpool(t.TempDir(), budget)
				defer s.Close()
				for i := range lines {
					fmt.Fprintf(s, "job %d line %d\n", j, i)
				}
				var prefix []byte
				if j%2 == 0 {
					prefix = fmt.Appendf(nil, "tag%d\t", j)
				}
				if err := o.WriteGroup(s, prefix); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		sc := bufio.NewScanner(&buf)
		for j := range jobs {
			if !sc.Scan() {
				t.Fatalf("output ends after %d groups", j)
			}
			var job, line int
			var tag string
			first := sc.Text()
			if _, err := fmt.Sscanf(first[strings.Index(first, "job"):], "job %d line %d", &job, &line); err != nil || line != 0 {
				t.Fatalf("group %d starts with %q", j, first)
			}
			if job%2 == 0 {
				tag = fmt.Sprintf("tag%d\t", job)
			}
			for i := range lines {
				if i > 0 && !sc.Scan() {
					t.Fatalf("output ends inside job %d", job)
				}
				if want := fmt.Sprintf("%sjob %d line %d", tag, job, i); sc.Text() != want {
					t.Fatalf("got %q, want %q: groups mixed", sc.Text(), want)
				}
			}
		}
		if sc.Scan() {
			t.Errorf("extra output %q", sc.Text())
		}
	})
}

func TestLineWriter(t *testing.T) {
	t.Run("lines of concurrent writers are never split", func(t *testing.T) {
		var buf bytes.Buffer
		o := NewOutput(&buf)
		const writers, lines = 16, 400
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				var prefix []byte
				if g%2 == 0 {
					prefix = fmt.Appendf(nil, "w%d\t", g)
				}
				lw := NewLineWriter(o, prefix)
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				var text bytes.Buffer
				for i := range lines {
					payload := strings.Repeat(string(rune('a'+g)), rng.IntN(200))
					if i == lines/2 {
						payload = strings.Repeat(string(rune('a'+g)), 3*lineMemMax) // a long line spills
					}
					fmt.Fprintf(&text, "w%d line %d %s\n", g, i, payload)
				}
				fmt.Fprintf(&text, "w%d last line without a newline", g)
				// Write it in random pieces, cutting lines anywhere.
				p := text.Bytes()
				for len(p) > 0 {
					n := min(1+rng.IntN(300), len(p))
					if rng.IntN(50) == 0 {
						n = min(5*lineMemMax, len(p))
					}
					if _, err := lw.Write(p[:n]); err != nil {
						t.Error(err)
						return
					}
					p = p[n:]
				}
				if err := lw.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		next := make([]int, writers)
		sc := bufio.NewScanner(&buf)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var g int
			if _, err := fmt.Sscanf(line[strings.Index(line, "w"):], "w%d", &g); err != nil || g < 0 || g >= writers {
				t.Fatalf("line %.60q has no writer", line)
			}
			prefix := ""
			if g%2 == 0 {
				prefix = fmt.Sprintf("w%d\t", g)
			}
			if next[g] == lines {
				if want := fmt.Sprintf("%sw%d last line without a newline", prefix, g); line != want {
					t.Fatalf("got %.60q, want %q", line, want)
				}
				next[g]++
				continue
			}
			head := fmt.Sprintf("%sw%d line %d ", prefix, g, next[g])
			body, ok := strings.CutPrefix(line, head)
			if !ok || strings.Trim(body, string(rune('a'+g))) != "" {
				t.Fatalf("got %.80q, want a line starting %q: a line was split or mixed", line, head)
			}
			next[g]++
		}
		for g, n := range next {
			if n != lines+1 {
				t.Errorf("writer %d: %d lines arrived, want %d", g, n, lines+1)
			}
		}
	})
	t.Run("a line is written as soon as it is complete", func(t *testing.T) {
		var buf bytes.Buffer
		lw := NewLineWriter(NewOutput(&buf), []byte("t\t"))
		lw.Write([]byte("one\ntw"))
		if buf.String() != "t\tone\n" {
			t.Errorf("after one line and a half: %q", buf.String())
		}
		lw.Write([]byte("o\nthree\nfou"))
		if buf.String() != "t\tone\nt\ttwo\nt\tthree\n" {
			t.Errorf("after three lines: %q", buf.String())
		}
		lw.Close()
		if buf.String() != "t\tone\nt\ttwo\nt\tthree\nt\tfou\n" {
			t.Errorf("after Close: %q", buf.String())
		}
	})
	t.Run("close with nothing pending writes nothing", func(t *testing.T) {
		var buf bytes.Buffer
		lw := NewLineWriter(NewOutput(&buf), nil)
		lw.Write([]byte("done\n"))
		lw.Close()
		if buf.String() != "done\n" {
			t.Errorf("got %q", buf.String())
		}
	})
	t.Run("a write error of the output is returned", func(t *testing.T) {
		o := NewOutput(&outputFailWriter{n: 0})
		lw := NewLineWriter(o, nil)
		if _, err := lw.Write([]byte("line\n")); err == nil || err != o.Err() {
			t.Errorf("Write returned %v, Output.Err %v", err, o.Err())
		}
	})
}

func BenchmarkSpool(b *testing.B) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 2<<10) // 32 KiB, a pipe read
	for _, size := range []int{100, 64 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("%d bytes", size), func(b *testing.B) {
			budget := NewBudget(16 << 20)
			dir := b.TempDir()
			b.SetBytes(int64(size))
			for b.Loop() {
				s := NewSpool(dir, budget)
				for left := size; left > 0; left -= len(chunk) {
					s.Write(chunk[:min(left, len(chunk))])
				}
				if _, err := s.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
