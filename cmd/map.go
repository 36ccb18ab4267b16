package cmd

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner"
)

// mapOptions are the flags and arguments of `futures map`.
type mapOptions struct {
	commonFlags
	argFiles  []string
	chunksize int
	command   []string
	items     []string // after :::
	hasItems  bool
}

// newMapCmd builds `futures map`: a command template applied to each item.
func newMapCmd(e env) *cobra.Command {
	o := &mapOptions{}
	c := &cobra.Command{
		Use:   "map [flags] COMMAND [ARG...] [::: ITEM...]",
		Short: "Apply a command template to each input item",
		Long: `Apply a command template to each input item, in parallel; results in input order.
Items come from ::: ITEM..., from -a FILE (repeatable: the files are zipped, stopping
at the shortest) or from stdin, one per line.

One COMMAND argument is a command line ('gzip -c {} > {}.gz'); several are an argv
kept word for word (sh -c 'echo "$1"' _). Templates: {} the item, {.} without
extension, {/} basename, {//} dirname, {/.} basename without extension, {#} job
number, {%} worker slot, {1} {2}… the n-th input. Without any, the items are
appended as arguments. Items are quoted for the shell: they are only ever data.`,
		Example: `  ls *.log | futures map 'gzip -9 {}'
  futures map -j4 convert {} {.}.png ::: a.jpg b.jpg
  futures map -a hosts.txt -a ports.txt 'nc -z {1} {2}'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, a := range args {
				if a == ":::" {
					o.command, o.items, o.hasItems = args[:i], args[i+1:], true
					break
				}
			}
			if !o.hasItems {
				o.command = args
			}
			if len(o.command) == 0 {
				return usagef("map: no COMMAND before :::")
			}
			return runMap(e, o)
		},
	}
	c.Flags().SetInterspersed(false)
	o.register(c.Flags(), true)
	c.Flags().StringArrayVarP(&o.argFiles, "arg-file", "a", nil, "read items from FILE (repeatable: the files are zipped)")
	c.Flags().IntVar(&o.chunksize, "chunksize", 1, "items per command invocation")
	return c
}

func runMap(e env, o *mapOptions) error {
	opt, err := o.runnerOptions(e.stdout, e.stderr)
	if err != nil {
		return err
	}
	if o.chunksize < 1 {
		return usagef("--chunksize %d: want 1 or more", o.chunksize)
	}
	d, err := o.delim()
	if err != nil {
		return err
	}
	tmpl, err := runner.ParseTemplate(o.command)
	if err != nil {
		return usageError{err}
	}
	var st inputStop
	defer st.close()
	opt.StopInput = st.stop
	var readers []*runner.Reader
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	if o.hasItems {
		// Arguments cannot hold NUL, so NUL separates them without ambiguity.
		readers = append(readers, runner.NewReader(strings.NewReader(strings.Join(o.items, "\x00")), 0))
	}
	for _, name := range o.argFiles {
		in, closeIn, err := openInputs(&st, e.stdin, []string{name})
		if err != nil {
			return err
		}
		closers = append(closers, closeIn)
		readers = append(readers, runner.NewReader(in, d))
	}
	if len(readers) == 0 {
		readers = append(readers, runner.NewReader(st.stdin(e.stdin), d))
	}
	src := runner.MapSource(tmpl, runner.Zip(readers...), o.chunksize)
	return execute(e, &o.commonFlags, opt, func(ctx context.Context, opt runner.Options) *runner.Summary {
		return runner.Run(ctx, opt, src)
	})
}

var _ io.Reader = os.Stdin
