package cmd

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

// pipeFlags are the flags of map's block mode: --pipe, --block, --recend
// and -N.
type pipeFlags struct {
	on      bool
	block   string
	recend  string
	records int

	fs *pflag.FlagSet // to tell a --block given from the default
}

func (p *pipeFlags) register(fs *pflag.FlagSet) {
	p.fs = fs
	fs.BoolVar(&p.on, "pipe", false, "block mode: cut stdin into blocks at record ends and feed each block to one job's stdin")
	fs.StringVar(&p.block, "block", "1M", "with --pipe: the size of a block (1M, 512k, 10M); blocks end at a record end; unset, a regular file is cut into one block per job slot (1M to 1G)")
	fs.StringVar(&p.recend, "recend", `\n`, `with --pipe: the end of a record (\n, \0, \t, \xHH, any string; '' for none)`)
	fs.IntVarP(&p.records, "records", "N", 0, "with --pipe: N records per block instead of --block")
}

// pipeOptions checks the flags of --pipe, given the run's options and the
// command template, and turns them into input.PipeOptions.
func (o *mapOptions) pipeOptions(opt runner.Options, tmpl *template.Template) (input.PipeOptions, error) {
	var po input.PipeOptions
	switch {
	case o.inputs.set() && !o.hasItems:
		return po, usagef("--pipe reads blocks: it does not go with --product, --colsep, --csv, --header or -X")
	case o.hasItems:
		return po, usagef("--pipe reads blocks from stdin (or -a FILE), not ::: items")
	case len(o.argFiles) > 1:
		return po, usagef("--pipe reads one input: stdin or a single -a FILE")
	case o.chunksize != 1:
		return po, usagef("--chunksize does not go with --pipe (-N: records per block)")
	case opt.Executor == runner.ProcessExecutor:
		return po, usagef("--pipe needs --executor thread: a job in a worker process cannot be given stdin yet")
	case opt.ResumeBy == runner.ResumeByCommand:
		return po, usagef("--resume-by command does not go with --pipe: every block runs the same command")
	case o.pipe.records < 0:
		return po, usagef("-N %d: want 1 or more records per block", o.pipe.records)
	}
	if err := tmpl.CheckInputs(0, 1); err != nil {
		return po, usageError{err}
	}
	size, err := input.ParseSize(o.pipe.block)
	if err != nil || size < 1 || size > 1<<30 {
		return po, usagef("--block %q: want a size from 1 byte to 1G, like 1M or 512k", o.pipe.block)
	}
	recend, err := input.Unescape(o.pipe.recend)
	if err != nil {
		return po, usagef("--recend %q: %v", o.pipe.recend, err)
	}
	if o.pipe.records > 0 && recend == "" {
		return po, usagef("-N needs a record end: --recend must not be empty")
	}
	if o.pipe.fs != nil && !o.pipe.fs.Changed("block") {
		size = 0 // the default: 1M, or a regular file's share of each slot
	}
	return input.PipeOptions{BlockSize: size, RecEnd: recend, Records: o.pipe.records, TempDir: opt.TempDir, Slots: opt.Workers}, nil
}

// runPipe is `futures map --pipe`: the blocks of stdin (or of the one -a
// FILE) are the jobs' standard input.
func runPipe(o *mapOptions, opt runner.Options, tmpl *template.Template, po input.PipeOptions) error {
	files := &input.Files{Stdin: o.f.stdin, Notice: o.f.stderr}
	defer files.Close()
	opt.StopInput = files.Stop
	in, closeIn, err := files.Open(o.argFiles)
	if err != nil {
		return usageError{err}
	}
	defer closeIn()
	if err := checkOutputs(opt, files); err != nil {
		return err
	}
	src, err := input.PipeSource(tmpl, in, po)
	if err != nil {
		return usageError{err}
	}
	opt.Window = runner.PipeWindow(opt.Workers)
	return execute(o.f, &o.commonFlags, opt, func(ctx context.Context, opt runner.Options) *runner.Summary {
		return runner.Run(ctx, opt, src)
	})
}
