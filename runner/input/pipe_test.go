package input

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/futures-cli/futures/runner/template"
)

// blocksOf runs a PipeSource over in to its end and returns its blocks.
func blocksOf(t *testing.T, in io.Reader, o PipeOptions) []string {
	t.Helper()
	tmpl, err := template.Parse([]string{"wc -c"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := PipeSource(tmpl, in, o)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for {
		job, err := src()
		if err == io.EOF {
			return blocks
		}
		if err != nil {
			t.Fatal(err)
		}
		if job.Seq != len(blocks)+1 {
			t.Fatalf("block %d has seq %d", len(blocks)+1, job.Seq)
		}
		// Read it twice, as a retry would.
		first, err := io.ReadAll(job.stdin.reader())
		if err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		if _, err := io.Copy(&again, job.stdin.reader()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again.Bytes()) {
			t.Fatalf("block %d reads differently the second time", job.Seq)
		}
		job.stdin.release()
		blocks = append(blocks, string(first))
	}
}

func pipeLines(n int, width func(i int) int) string {
	var b strings.Builder
	for i := range n {
		s := strconv.Itoa(i)
		b.WriteString(s)
		b.WriteString(strings.Repeat("x", max(0, width(i)-len(s))))
		b.WriteByte('\n')
	}
	return b.String()
}

// checkBlocks checks that the blocks put together are the input, and that
// each ends at a record end (but maybe the last).
func checkBlocks(t *testing.T, in string, blocks []string, recend string) {
	t.Helper()
	if got := strings.Join(blocks, ""); got != in {
		t.Fatalf("the blocks put together (%d bytes) are not the input (%d bytes)", len(got), len(in))
	}
	for i, b := range blocks {
		if b == "" {
			t.Fatalf("block %d is empty", i+1)
		}
		if recend != "" && i < len(blocks)-1 && !strings.HasSuffix(b, recend) {
			t.Fatalf("block %d splits a record: it ends in %q", i+1, b[max(0, len(b)-10):])
		}
	}
}

func TestPipeSourceBlocks(t *testing.T) {
	short := pipeLines(1000, func(i int) int { return 1 + i%37 })
	mixed := pipeLines(300, func(i int) int {
		if i%50 == 7 {
			return 5000 // far longer than the block
		}
		return 10 + i%13
	})
	cases := []struct {
		name string
		in   string
		o    PipeOptions
		// most is the largest a block may be; 0: no check.
		most int
	}{
		{"lines in blocks of about 100 bytes never split a line", short, PipeOptions{BlockSize: 100, RecEnd: "\n"}, 100},
		{"a line longer than the block is a block of its own", mixed, PipeOptions{BlockSize: 256, RecEnd: "\n"}, 5001},
		{"a multi-byte record end is never split", strings.ReplaceAll(short, "\n", "\r\n"), PipeOptions{BlockSize: 64, RecEnd: "\r\n"}, 64},
		{"no record end cuts at exactly the block size", short, PipeOptions{BlockSize: 100, RecEnd: ""}, 100},
		{"NUL-ended records", strings.ReplaceAll(short, "\n", "\x00"), PipeOptions{BlockSize: 50, RecEnd: "\x00"}, 50},
		{"input without a last record end keeps its tail", strings.TrimSuffix(short, "\n"), PipeOptions{BlockSize: 100, RecEnd: "\n"}, 100},
		{"the default block holds a small input whole", short, PipeOptions{RecEnd: "\n"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, read := range []struct {
				name string
				r    func() io.Reader
			}{
				{"whole reads", func() io.Reader { return strings.NewReader(c.in) }},
				{"one byte at a time", func() io.Reader { return iotest.OneByteReader(strings.NewReader(c.in)) }},
				{"a regular file", func() io.Reader { return tempInput(t, "", c.in) }},
			} {
				blocks := blocksOf(t, read.r(), c.o)
				checkBlocks(t, c.in, blocks, c.o.RecEnd)
				for i, b := range blocks {
					if c.most > 0 && len(b) > c.most {
						t.Fatalf("%s: block %d is %d bytes, more than %d", read.name, i+1, len(b), c.most)
					}
				}
				if c.most > 0 && c.most == int(c.o.BlockSize) && len(blocks) < len(c.in)/int(c.o.BlockSize)/2 {
					t.Fatalf("%s: %d blocks for %d bytes in blocks of %d", read.name, len(blocks), len(c.in), c.o.BlockSize)
				}
			}
		})
	}
}

// tempInput returns a regular file holding prefix+s, its offset after
// prefix.
func tempInput(t *testing.T, prefix, s string) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(name, []byte(prefix+s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPipeSourceRecords(t *testing.T) {
	in := pipeLines(103, func(i int) int { return 1 + i%300 })
	for _, n := range []int{1, 7, 100, 1000} {
		t.Run(fmt.Sprintf("-N %d makes blocks of %d lines", n, n), func(t *testing.T) {
			blocks := blocksOf(t, iotest.HalfReader(strings.NewReader(in)), PipeOptions{BlockSize: 64, RecEnd: "\n", Records: n})
			checkBlocks(t, in, blocks, "\n")
			for i, b := range blocks {
				want := n
				if i == len(blocks)-1 {
					want = 103 - n*(len(blocks)-1)
				}
				if got := strings.Count(b, "\n"); got != want {
					t.Fatalf("block %d has %d lines, want %d", i+1, got, want)
				}
			}
		})
	}
	t.Run("-N with a multi-byte record end", func(t *testing.T) {
		in := strings.ReplaceAll(in, "\n", "<>")
		blocks := blocksOf(t, iotest.OneByteReader(strings.NewReader(in)), PipeOptions{BlockSize: 16, RecEnd: "<>", Records: 10})
		checkBlocks(t, in, blocks, "<>")
		if got := strings.Count(blocks[0], "<>"); got != 10 {
			t.Fatalf("block 1 has %d records, want 10", got)
		}
	})
	t.Run("-N without a record end is refused", func(t *testing.T) {
		if _, err := PipeSource(nil, strings.NewReader(""), PipeOptions{Records: 2}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestPipeSourceSpoolsBigBlocks(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("y", 10000) + "\n"
	in := "a\n" + long + "b\n" + long
	for _, o := range []PipeOptions{
		{BlockSize: 100, RecEnd: "\n", TempDir: dir},
		{BlockSize: 100, RecEnd: "\n", Records: 2, TempDir: dir},
	} {
		blocks := blocksOf(t, strings.NewReader(in), o)
		checkBlocks(t, in, blocks, "\n")
		if o.Records == 0 && (len(blocks) != 4 || blocks[1] != long) {
			t.Fatalf("got %d blocks; want the long lines as blocks of their own", len(blocks))
		}
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("%d files left in the temporary directory", len(left))
	}
}

func TestPipeSourceFileOffset(t *testing.T) {
	f := tempInput(t, "skipped\n", "one\ntwo\nthree\n")
	blocks := blocksOf(t, f, PipeOptions{BlockSize: 6, RecEnd: "\n"})
	if strings.Join(blocks, "|") != "one\n|two\n|three\n" {
		t.Fatalf("blocks %q", blocks)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len("skipped\none\ntwo\nthree\n")) {
		t.Fatalf("the file's offset is %d at the end, not its size", pos)
	}
}

func TestBlockIntoPipe(t *testing.T) {
	data := pipeLines(50000, func(i int) int { return 20 })
	for name, b := range map[string]*block{
		"memory": {data: []byte(data)},
		"file":   {file: tempInput(t, "", data), n: int64(len(data))},
	} {
		t.Run(name+" block through a pipe", func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			done := make(chan error, 1)
			go func() {
				_, err := io.Copy(pw, b.reader())
				pw.Close()
				done <- err
			}()
			got, err := io.ReadAll(pr)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if string(got) != data {
				t.Fatalf("read %d bytes back, want %d", len(got), len(data))
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20}, {"1M", 1 << 20}, {"1MiB", 1 << 20}, {"1mi", 1 << 20}, {"1MB", 1 << 20},
		{"1m", 1000000}, {"512k", 512000}, {"512K", 512 << 10}, {"1.5G", 3 << 29}, {"2g", 2e9}, {"0", 0},
	} {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "M", "-1", "1X", "1e30G", "abc"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
	}
}
