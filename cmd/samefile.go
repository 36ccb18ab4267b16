package cmd

import (
	"os"

	"github.com/futures-cli/futures/runner"
)

// An output file that is also an input would be overwritten while it is
// read (`-a items --joblog items`, `--results f.jsonl -a f.jsonl`, stdin
// redirected from the joblog): the run refuses it, a usage error before
// anything runs or any file is touched. Files are compared by device and
// inode (os.SameFile), so another path to the same file (./items, a hard
// link, a symbolic link) is caught too. Only regular files are compared:
// /dev/null may be stdin and the joblog at once.

// inputFile is an input the run reads: its name as given ("stdin" for
// stdin) and what fstat(2) says of it.
type inputFile struct {
	name string
	info os.FileInfo
}

// noteInput records f, an input of the run, for checkOutputs.
func (s *inputStop) noteInput(name string, f *os.File) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputs = append(s.inputs, inputFile{name, fi})
}

// checkOutputs refuses a run whose output files (--joblog, a --results
// file) are one of its inputs: those that st has seen opened, and the
// --sshloginfile.
func checkOutputs(opt runner.Options, st *inputStop) error {
	st.mu.Lock()
	inputs := append([]inputFile(nil), st.inputs...)
	st.mu.Unlock()
	if name := opt.Remote.LoginFile; name != "" {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			inputs = append(inputs, inputFile{name, fi})
		}
	}
	for _, out := range []struct{ flag, name string }{{"--joblog", opt.Joblog}, {"--results", opt.Results}} {
		if out.name == "" {
			continue
		}
		fi, err := os.Stat(out.name)
		if err != nil || !fi.Mode().IsRegular() {
			continue // not there yet (so not an input), or not a file
		}
		for _, in := range inputs {
			if os.SameFile(fi, in.info) {
				return usagef("%s %s is also an input (%s): it would be overwritten; write it elsewhere", out.flag, out.name, in.name)
			}
		}
	}
	return nil
}
