package cmd

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
)

// transferFlags are GNU parallel's flags for files where there is no
// shared file system: --transferfile (--tf), --transfer, --return,
// --cleanup and --trc. The workers of the process executor move the
// files (docs/process-executor.md).
type transferFlags struct {
	transferfile []string // --transferfile
	tf           []string // --tf, its short spelling
	transfer     bool
	ret          []string
	cleanup      bool
	trc          []string
}

func (f *transferFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.transferfile, "transferfile", nil, "process executor: send FILE (a template: {}, {.}…) to the job's worker before the job runs (repeatable); a name with /./ lands relative to the worker's directory from there on")
	fs.StringArrayVar(&f.tf, "tf", nil, "same as --transferfile")
	fs.BoolVar(&f.transfer, "transfer", false, "same as --transferfile {}: send the job's item")
	fs.StringArrayVar(&f.ret, "return", nil, "process executor: bring FILE (a template) back from the job's worker after the job (repeatable); a missing one fails the job")
	fs.BoolVar(&f.cleanup, "cleanup", false, "remove the files sent and brought back on the worker after the job")
	fs.StringArrayVar(&f.trc, "trc", nil, "same as --transfer --return FILE --cleanup (--transfer unless --transferfile is given)")
}

// apply checks the flags and sets them in o, whose executor is chosen.
func (f *transferFlags) apply(o *runner.Options) error {
	o.Transfer = append(append([]string(nil), f.transferfile...), f.tf...)
	o.TransferItem = f.transfer || len(f.trc) > 0 && len(o.Transfer) == 0
	o.Return = append(append([]string(nil), f.ret...), f.trc...)
	o.Cleanup = f.cleanup || len(f.trc) > 0
	for _, name := range append(o.Transfer, o.Return...) {
		if name == "" {
			return usagef("--transferfile, --return, --trc: an empty file name")
		}
	}
	if o.Executor == runner.ProcessExecutor || len(o.Hosts) > 0 || o.Remote.Enabled() {
		return nil
	}
	var flag string
	switch {
	case len(f.trc) > 0:
		flag = "--trc"
	case f.transfer:
		flag = "--transfer"
	case len(f.transferfile) > 0:
		flag = "--transferfile"
	case len(f.tf) > 0:
		flag = "--tf"
	case len(f.ret) > 0:
		flag = "--return"
	case f.cleanup:
		flag = "--cleanup"
	default:
		return nil
	}
	return usageError{errors.New(flag + " needs remote workers (-S, --launcher) or --executor process")}
}
