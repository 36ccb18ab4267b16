package input

import (
	"fmt"
	"os"
)

// An output file that is also an input would be overwritten while it is
// read (`-a items --joblog items`, `--results f.jsonl -a f.jsonl`, stdin
// redirected from the joblog): the run refuses it, before anything runs
// or any file is touched. Files are compared by device and inode
// (os.SameFile), so another path to the same file (./items, a hard link,
// a symbolic link) is caught too. Only regular files are compared:
// /dev/null may be stdin and the joblog at once.

// Output is an output file of a run, for CheckOutputs: the flag that names
// it (for messages) and its name; "" for none.
type Output struct {
	Flag string // "--joblog"
	Name string
}

// inputFile is an input the run reads: its name as given ("stdin" for
// stdin) and what fstat(2) says of it.
type inputFile struct {
	name string
	info os.FileInfo
}

// noteInput records file, an input of the run, for CheckOutputs.
func (f *Files) noteInput(name string, file *os.File) {
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inputs = append(f.inputs, inputFile{name, fi})
}

// CheckOutputs refuses outputs (--joblog, a --results file) of which one
// is an input of the run: one that f has opened, or one of also, the
// files the run reads by itself (--sshloginfile). The error names the
// flag, the output and the input: "--joblog log is also an input (stdin):
// it would be overwritten; write it elsewhere".
func (f *Files) CheckOutputs(outputs []Output, also ...string) error {
	f.mu.Lock()
	inputs := append([]inputFile(nil), f.inputs...)
	f.mu.Unlock()
	for _, name := range also {
		if name == "" {
			continue
		}
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			inputs = append(inputs, inputFile{name, fi})
		}
	}
	for _, out := range outputs {
		if out.Name == "" {
			continue
		}
		fi, err := os.Stat(out.Name)
		if err != nil || !fi.Mode().IsRegular() {
			continue // not there yet (so not an input), or not a file
		}
		for _, in := range inputs {
			if os.SameFile(fi, in.info) {
				return fmt.Errorf("%s %s is also an input (%s): it would be overwritten; write it elsewhere", out.Flag, out.Name, in.name)
			}
		}
	}
	return nil
}
