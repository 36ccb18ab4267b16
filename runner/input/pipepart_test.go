package input

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/futures-cli/futures/runner/template"
)

// regionJobs runs a PipeSource over in to its end, without reading the
// blocks, and returns each block's offset and length in the input file,
// failing if one is not a region of the input itself (held in memory, or
// in a temporary file of its own).
func regionJobs(t *testing.T, in *os.File, o PipeOptions) (offs, lens []int64) {
	t.Helper()
	tmpl, err := template.Parse([]string{"wc -c"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := PipeSource(tmpl, in, o)
	if err != nil {
		t.Fatal(err)
	}
	for {
		job, err := src()
		if err == io.EOF {
			return offs, lens
		}
		if err != nil {
			t.Fatal(err)
		}
		b := job.stdin
		if b.file != in || b.own {
			t.Fatalf("block %d is not a region of the input file: it was copied (in memory: %v, in a file of its own: %v)",
				job.Seq, b.data != nil, b.own)
		}
		offs, lens = append(offs, b.off), append(lens, b.n)
		job.Release()
	}
}

func TestPipeSourceCutsAFileAsItCutsAPipe(t *testing.T) {
	lines := pipeLines(300, func(i int) int {
		if i%97 == 5 {
			return 3000 // longer than most blocks
		}
		return 1 + i*7%61
	})
	for _, recend := range []string{"\n", "\r\n", "\x00", "<end>", ""} {
		in := lines
		if recend != "\n" && recend != "" {
			in = strings.ReplaceAll(lines, "\n", recend)
		}
		for _, size := range []int64{1, 3, 64, 100, 4096, 1 << 20} {
			for _, records := range []int{0, 1, 3, 50} {
				if records > 0 && (recend == "" || size > 100) {
					continue
				}
				o := PipeOptions{BlockSize: size, RecEnd: recend, Records: records, TempDir: t.TempDir()}
				name := fmt.Sprintf("--recend %q --block %d -N %d", recend, size, records)
				t.Run(name, func(t *testing.T) {
					fromPipe := blocksOf(t, iotest.HalfReader(strings.NewReader(in)), o)
					checkBlocks(t, in, fromPipe, recend)
					fromFile := blocksOf(t, tempInput(t, "", in), o)
					if !slices.Equal(fromFile, fromPipe) {
						t.Fatalf("a file is cut into %d blocks, the same input through a pipe into %d; first difference at block %d",
							len(fromFile), len(fromPipe), firstDiff(fromFile, fromPipe)+1)
					}
					f := tempInput(t, "", in)
					offs, lens := regionJobs(t, f, o)
					if len(offs) != len(fromPipe) {
						t.Fatalf("%d regions, %d blocks", len(offs), len(fromPipe))
					}
					var at int64
					for i := range offs {
						if offs[i] != at || lens[i] != int64(len(fromPipe[i])) {
							t.Fatalf("block %d is [%d, +%d), want [%d, +%d)", i+1, offs[i], lens[i], at, len(fromPipe[i]))
						}
						at += lens[i]
					}
				})
			}
		}
	}
}

func TestPipeSourceCountsRecordsOfAFileAcrossItsReads(t *testing.T) {
	// Far more than one read of the file, with record ends across them.
	in := strings.ReplaceAll(pipeLines(20000, func(i int) int { return 1 + i*13%41 }), "\n", "<end>")
	for _, n := range []int{1, 7, 1000, 30000} {
		t.Run(fmt.Sprintf("-N %d", n), func(t *testing.T) {
			o := PipeOptions{RecEnd: "<end>", Records: n}
			fromPipe := blocksOf(t, strings.NewReader(in), o)
			f := tempInput(t, "skip<end>", in)
			fromFile := blocksOf(t, f, o)
			if !slices.Equal(fromFile, fromPipe) {
				t.Fatalf("a file is cut into %d blocks, the same input through a pipe into %d; first difference at block %d",
					len(fromFile), len(fromPipe), firstDiff(fromFile, fromPipe)+1)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len("skip<end>")+len(in)) {
				t.Fatalf("the file's offset is %d at the end, not its size", pos)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// sparseInput returns a regular file of size bytes, all zeros (a hole:
// nothing is written), with a record end every every bytes (none if 0).
func sparseInput(t *testing.T, size int64, every int64) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "in"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for at := every - 1; every > 0 && at < size; at += every {
		if _, err := f.WriteAt([]byte{'\n'}, at); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestPipeSourceDefaultBlockOfAFileIsItsShareOfTheSlots(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		name   string
		size   int64
		every  int64 // a record end every so many bytes; 0: none (--recend '')
		slots  int
		blocks int
		most   int64 // the largest block: the share, and a record less one byte
	}{
		{"2 slots: 2 blocks", 10 * MiB, 1000, 2, 2, 5*MiB + 999},
		{"3 slots: 3 blocks, the cuts at record ends", 10 * MiB, 999, 3, 3, 10*MiB/3 + 999},
		{"4 slots of a file not cut evenly by records", 8*MiB + 1, 4096, 4, 4, 2*MiB + 4095},
		{"no records: exact shares", 9 * MiB, 0, 3, 3, 3 * MiB},
		{"a small file: blocks of 1 MiB at least", 3*MiB + 10, 100, 8, 4, MiB + 99},
		{"a big file: blocks of 1 GiB at most", 3<<30 + 5, 0, 2, 4, 1 << 30},
		{"-j 0 (no limit): one block per CPU", 64 * MiB, 0, NoLimit, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recend := "\n"
			if c.every == 0 {
				recend = ""
			}
			f := sparseInput(t, c.size, c.every)
			offs, lens := regionJobs(t, f, PipeOptions{RecEnd: recend, Slots: c.slots})
			want := c.blocks
			if c.slots == NoLimit {
				want = min(64, numCPU())
			}
			if len(offs) != want {
				t.Fatalf("%d blocks (%v), want %d", len(offs), lens, want)
			}
			var total int64
			for i, n := range lens {
				total += n
				if c.most > 0 && n > c.most {
					t.Errorf("block %d is %d bytes, more than %d", i+1, n, c.most)
				}
				if c.every > 0 && i < len(lens)-1 && (offs[i]+n)%c.every != 0 {
					t.Errorf("block %d ends at %d, not at a record end", i+1, offs[i]+n)
				}
			}
			if total != c.size {
				t.Fatalf("the blocks add up to %d bytes, not %d", total, c.size)
			}
		})
	}
	t.Run("through a pipe the default block stays 1 MiB", func(t *testing.T) {
		in := strings.Repeat(strings.Repeat("x", 99)+"\n", 3*MiB/100)
		blocks := blocksOf(t, strings.NewReader(in), PipeOptions{RecEnd: "\n", Slots: 2})
		checkBlocks(t, in, blocks, "\n")
		if len(blocks) != 4 || len(blocks[0]) != MiB/100*100 {
			t.Fatalf("%d blocks, the first of %d bytes; want 4, the first three of about 1 MiB", len(blocks), len(blocks[0]))
		}
	})
}
