package cmd

import (
	"strconv"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

// inputFlags are map's flags and arguments for where the items come from
// and how each becomes the values of a job: the ::: and :::: groups,
// --product, --colsep, --csv, --header, -X and -I.
type inputFlags struct {
	groups  []input.Group // after COMMAND, in order
	product bool
	colsep  string
	csv     bool
	header  string
	fill    bool
	replace string
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.product, "product", false, "combine the input sources as a cartesian product, the last varying fastest (GNU parallel's ::: a b ::: 1 2) instead of zipping them")
	fs.StringVar(&f.colsep, "colsep", "", "split each item into fields {1} {2}… at this regular expression (',', '\\t', ' +')")
	fs.BoolVar(&f.csv, "csv", false, "read each input as CSV: a record (quoted fields may hold separators and newlines) gives the fields {1} {2}…; --colsep C sets the separator")
	fs.StringVar(&f.header, "header", "", "':' (or N lines): the first line of each input names its fields, {name}; it runs no job")
	fs.BoolVarP(&f.fill, "fill", "X", false, "put as many items in each command as the system's argument-size limit allows (GNU parallel -X; a word with {} is repeated per item)")
	fs.StringVarP(&f.replace, "replace", "I", "", "STR stands for the item instead of {} (xargs -I STR); one item per command")
}

// splitGroups splits map's arguments into the COMMAND and the ::: and
// :::: groups that follow it.
func splitGroups(args []string) (command []string, groups []input.Group) {
	command = args
	for i, a := range args {
		switch {
		case a == ":::" || a == "::::":
			if groups == nil {
				command = args[:i]
			}
			groups = append(groups, input.Group{Files: a == "::::"})
		case groups != nil:
			g := &groups[len(groups)-1]
			g.Args = append(g.Args, a)
		}
	}
	return command, groups
}

// set reports whether a flag or group that --pipe cannot use is given.
func (f *inputFlags) set() bool {
	return len(f.groups) > 0 || f.product || f.colsep != "" || f.csv || f.header != "" || f.fill
}

// headerLines parses --header: "" none, ":" one line, N lines.
func (f *inputFlags) headerLines() (int, error) {
	switch f.header {
	case "":
		return 0, nil
	case ":":
		return 1, nil
	}
	n, err := strconv.Atoi(f.header)
	if err != nil || n < 0 {
		return 0, usagef("--header %q: want ':' (the first line) or a number of lines", f.header)
	}
	return n, nil
}

// templateOptions are the template options the flags ask for, before the
// header is read.
func (f *inputFlags) templateOptions() template.Options {
	n, _ := f.headerLines()
	return template.Options{Replace: f.replace, Fields: f.colsep != "" || f.csv || n > 0}
}

// mapSource opens map's inputs (-a FILEs, then the ::: and :::: groups in
// order; stdin when there is none) with files, reads their header, and
// returns the source of jobs: the template tmpl (parsed again with the
// column names of a header) over the inputs zipped or combined. close
// closes what it opened.
func (o *mapOptions) mapSource(files *input.Files, opt runner.Options, d byte, tmpl *template.Template) (src input.Source, close func(), err error) {
	f := &o.inputs
	header, err := f.headerLines()
	if err != nil {
		return nil, nil, err
	}
	if f.replace != "" && (f.fill || o.chunksize > 1) {
		return nil, nil, usagef("-I puts one item in each command: it does not go with -X or -n")
	}
	if f.csv && (o.null || o.delimiter != "") {
		return nil, nil, usagef("--csv reads CSV records: it does not go with -0 or -d")
	}
	sources := input.Sources{ArgFiles: o.argFiles, Groups: f.groups, Delim: d, Colsep: f.colsep, CSV: f.csv, Header: header}
	recs, columns, close, err := sources.Open(files.OpenNamed)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if header > 0 {
		topt := f.templateOptions()
		topt.Columns = columns
		if tmpl, err = template.ParseWith(o.command, topt); err != nil {
			close()
			return nil, nil, usageError{err}
		}
	}
	if src, err = o.source(tmpl, recs, opt); err != nil {
		close()
		return nil, nil, err
	}
	return src, close, nil
}

// source makes map's source of jobs of the records of its inputs: the
// template tmpl over them, zipped or combined, after checking that it
// fits them.
func (o *mapOptions) source(tmpl *template.Template, recs []input.Records, opt runner.Options) (input.Source, error) {
	f := &o.inputs
	perJob := o.chunksize
	if f.fill {
		perJob = 0 // as many as fit: not known in advance
	}
	if err := tmpl.CheckInputs(len(recs), perJob); err != nil {
		return nil, usageError{err}
	}
	if f.fill && !tmpl.PerRecord(len(recs)) {
		return nil, usagef("-X: the command has no {} to repeat per item (nor {N} of several inputs or fields), so it cannot take several")
	}
	all := input.Zip(recs...)
	if f.product {
		all = input.Product(recs...)
	}
	chunk := o.chunksize
	if f.fill && chunk == 1 {
		chunk = 0 // -X alone: as many as fit
	}
	return input.MapSource(tmpl, all, input.MapOptions{
		Chunksize: chunk, Fill: f.fill, Shell: opt.Shell, Workers: opt.Workers,
	}), nil
}
