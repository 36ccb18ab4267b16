package runner

import (
	"errors"
	"fmt"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

// Files where there is no shared file system (GNU parallel's
// --transferfile, --transfer, --return, --cleanup, --trc): the names are
// templates expanded for each job, like its command; the process
// executor's workers move the files (pool/transfer.go,
// docs/process-executor.md).

// Files are the files of one job that travel with it to a process-pool
// worker and back, named as the runner sees them (relative to its working
// directory); pool.WorkerPath says where each lands on the worker.
type Files struct {
	// Transfer are sent to the worker before the job runs.
	Transfer []string
	// Return are brought back after it.
	Return []string
	// Cleanup removes them on the worker once the job is over.
	Cleanup bool
}

// ErrFilesNeedWorkers is the error of a run that asks for files to travel
// without the process executor, whose workers move them.
var ErrFilesNeedWorkers = errors.New("--transfer, --transferfile, --return, --trc and --cleanup need remote workers (-S, --launcher) or --executor process")

// checkFiles checks that the run's file options can be served.
func checkFiles(opt *Options) error {
	if !opt.wantsFiles() || opt.Executor == ProcessExecutor {
		return nil
	}
	return ErrFilesNeedWorkers
}

// wantsFiles reports whether the run has files to move.
func (opt *Options) wantsFiles() bool {
	return len(opt.Transfer) > 0 || opt.TransferItem || len(opt.Return) > 0 || opt.Cleanup
}

// files expands the run's --transferfile and --return templates for job j
// on worker slot, with the job's values as its command has them; nil when
// the run has none. A submit job's value is its command line.
func (r *run) files(j *input.Job, slot int) (*Files, error) {
	opt := &r.opt
	if !opt.wantsFiles() {
		return nil, nil
	}
	v := template.Vars{Seq: j.Seq, Slot: slot}
	proto := j.Template() // nil for a submit job: the default replacement strings
	if proto != nil {
		v.Records = j.Records()
	} else {
		v.Records = [][]string{{j.Text()}}
	}
	transfer := opt.Transfer
	if opt.TransferItem {
		item := "{}"
		if repl := proto.Replace(); repl != "" {
			item = repl // -I STR: the item is STR, as GNU parallel takes it
		}
		transfer = append([]string{item}, transfer...)
	}
	f := &Files{Cleanup: opt.Cleanup}
	var err error
	if f.Transfer, err = expandFiles("--transferfile", transfer, proto, v); err != nil {
		return nil, err
	}
	if f.Return, err = expandFiles("--return", opt.Return, proto, v); err != nil {
		return nil, err
	}
	return f, nil
}

// expandFiles expands each file-name template of tmpls for v: a template
// with {} (or a path form of it) gives one name per record of a chunk, one
// with no replacement string is the name itself.
func expandFiles(flag string, tmpls []string, proto *template.Template, v template.Vars) ([]string, error) {
	var names []string
	for _, s := range tmpls {
		t := proto.Arg(s)
		if !t.HasReplacement() {
			names = append(names, s)
			continue
		}
		c, err := t.Expand(v)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, s, err)
		}
		for _, name := range c.Argv {
			if name == "" {
				return nil, fmt.Errorf("%s %s: the file name is empty for this job", flag, s)
			}
			names = append(names, name)
		}
	}
	return names, nil
}
