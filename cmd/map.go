package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

// mapOptions are the flags and arguments of `futures map`.
type mapOptions struct {
	f *factory
	commonFlags
	argFiles  []string
	chunksize int
	command   []string
	hasItems  bool       // a ::: or :::: group is given
	inputs    inputFlags // the groups, --product, --colsep, --csv, --header, -X, -I (mapinput.go)
	pipe      pipeFlags  // --pipe, --block, --recend, -N (pipe.go)
}

// newCmdMap builds `futures map`: a command template applied to each item.
// runF runs the parsed options; nil: runMap, the real run.
func newCmdMap(f *factory, runF func(*mapOptions) error) *cobra.Command {
	o := &mapOptions{f: f}
	c := &cobra.Command{
		Use:   "map [flags] COMMAND [ARG...] [::: ITEM... | :::: FILE...]...",
		Short: "Apply a command template to each input item",
		Long: `Apply a command template to each input item, in parallel; results in input order.

Inputs: each -a FILE, each ::: ITEM... group and each FILE of a :::: FILE... group
is one input source (in that order; - is stdin); with none, stdin. Items are lines
(-0: NUL-separated, -d: another byte). Several sources are zipped, as Python's
map(fn, *iterables): the n-th job gets the n-th item of each, {1} {2}…, stopping
at the shortest. --product takes every combination instead, the last source
varying fastest (GNU parallel's default for ::: a b ::: 1 2; --product reads the
sources after the first into memory).

Fields: --colsep REGEX splits each item into fields {1} {2}…; --csv reads each
input as CSV (quoted fields may hold separators and newlines); --header : takes
the first line as column names, {name}. A line with fewer fields than the
template needs, or bad CSV, fails its own job; the others run.

One COMMAND argument is a command line ('gzip -c {} > {}.gz'); several are an argv
kept word for word (sh -c 'echo "$1"' _). Templates: {} the item, {.} without
extension, {/} basename, {//} dirname, {/.} basename without extension, {#} job
number, {%} worker slot, {1} {2}… the n-th input or field ({1.} {1/} {1//} {1/.}
its path forms), {name} a --header column. Without any, the items are appended
as arguments. Items are quoted for the shell: they are only ever data.

Many items per command: -n N puts N in each (fewer if N would pass the
argument-size limit); -X as many as the limit allows, repeating each word that
holds {} once per item. -I STR makes STR the item's replacement instead of {}.

Coming from GNU parallel: several ::: groups are zipped here (add --product for
parallel's combinations); --timeout is the overall deadline, as in Python (a
job's limit is --job-timeout); --bar and --eta show futures' progress bar.`,
		Example: `  ls *.log | futures map 'gzip -9 {}'
  futures map -j4 convert {} {.}.png ::: a.jpg b.jpg
  futures map -a hosts.txt -a ports.txt 'nc -z {1} {2}'
  futures map --product 'echo {1}-{2}' ::: a b ::: 1 2 3
  futures map --csv --header : 'curl -o {name}.html {url}' :::: sites.csv
  find . -name '*.tmp' | futures map -X rm --`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("map: missing COMMAND, the command to run for each item (futures map 'gzip {}' ::: a.log)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.command, o.inputs.groups = splitGroups(args)
			o.hasItems = o.inputs.groups != nil
			if len(o.command) == 0 {
				return usagef("map: missing COMMAND before :::")
			}
			if runF != nil {
				return runF(o)
			}
			return runMap(o)
		},
	}
	c.Flags().SetInterspersed(false)
	o.register(c.Flags(), true)
	c.Flags().StringArrayVarP(&o.argFiles, "arg-file", "a", nil, "read items from FILE (repeatable: the files are zipped)")
	c.Flags().IntVarP(&o.chunksize, "chunksize", "n", 1, "items per command: at most N, fewer when N would pass the argument-size limit (xargs -n)")
	o.inputs.register(c.Flags())
	o.pipe.register(c.Flags())
	completeChoices(c)
	return c
}

// runMap runs map's jobs: over the items of its inputs, or with --pipe
// over the blocks of one.
func runMap(o *mapOptions) error {
	opt, d, tmpl, err := o.check()
	if err != nil {
		return err
	}
	if err := o.svc.check(&o.commonFlags); err != nil {
		return err
	}
	if o.pipe.on && o.svc.detach {
		return usagef("map: --pipe cannot be --detach'ed: a future's input is not held by the service")
	}
	if o.pipe.on {
		po, err := o.pipeOptions(opt, tmpl)
		if err != nil {
			return err
		}
		return runPipe(o, opt, tmpl, po)
	}
	files := &input.Files{Stdin: o.f.stdin, Notice: o.f.stderr}
	defer files.Close()
	opt.StopInput = files.Stop
	src, closeInputs, err := o.mapSource(files, opt, d, tmpl)
	if err != nil {
		return err
	}
	defer closeInputs()
	if o.svc.detach {
		return submitDetached(o.f, &o.commonFlags, opt, src, nil)
	}
	if err := checkOutputs(opt, files); err != nil {
		return err
	}
	return execute(o.f, &o.commonFlags, opt, func(ctx context.Context, opt runner.Options) *runner.Summary {
		return runner.Run(ctx, opt, src)
	})
}

// check checks map's flags and arguments, before any input is opened, and
// turns them into the run's options, the input delimiter and the parsed
// command template (parsed again by mapSource when a --header names
// columns).
func (o *mapOptions) check() (opt runner.Options, d byte, tmpl *template.Template, err error) {
	opt, err = o.runnerOptions(o.f)
	if err != nil {
		return opt, 0, nil, err
	}
	if o.chunksize < 1 {
		return opt, 0, nil, usagef("--chunksize %d: want 1 or more", o.chunksize)
	}
	if d, err = o.delim(); err != nil {
		return opt, 0, nil, err
	}
	if tmpl, err = template.ParseWith(o.command, o.inputs.templateOptions()); err != nil {
		return opt, 0, nil, usageError{err}
	}
	return opt, d, tmpl, nil
}
