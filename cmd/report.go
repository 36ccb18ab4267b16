package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/report"
)

// reportOptions are the flags and arguments of `futures report`.
type reportOptions struct {
	f       *factory
	output  string
	text    bool
	service string
	inputs  []string
}

// newCmdReport builds `futures report`: a timeline of a run from its
// records. runF runs the parsed options; nil: runReport.
func newCmdReport(f *factory, runF func(*reportOptions) error) *cobra.Command {
	o := &reportOptions{f: f}
	c := &cobra.Command{
		Use:   "report [-o FILE.html] [--text] [--service NAME | INPUT...]",
		Short: "Draw a run as a timeline: one HTML page, or a compact text",
		Long: `Draw a run from its records: --json lines, a --results FILE.jsonl, a joblog in
GNU parallel's format (ours or GNU parallel's own), or the futures of an executor
service (--service NAME; the service is not started). Each INPUT is a file (- is
stdin); with none, stdin.

The page is one self-contained HTML file (no network): a timeline with a row per
worker slot (grouped by host), a bar per job coloured by outcome, the job's
command, item, exit status, duration, RSS and CPU on hover; beside it the wall
time, the jobs by outcome, each slot's utilisation, the ten slowest jobs, the
tail (how long the last job ran alone) and each failure with the end of its
stderr. --text prints the summary in 80 columns instead, for a CI log.

A joblog names no worker: its jobs are packed into as few slots per host as
their times allow. submit, map and wait write the same page with --report FILE.`,
		Example: `  futures map --json -j8 ./build {} ::: src/* > run.jsonl; futures report -o run.html run.jsonl
  parallel --joblog log -j4 gzip ::: *.txt; futures report --text log
  futures report --service ci -o ci.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.inputs = args
			if o.service != "" && len(args) > 0 {
				return usagef("report: give --service NAME or INPUTs, not both")
			}
			if cmd.Flags().Changed("output") && o.output == "" {
				return usagef("-o: empty")
			}
			if runF != nil {
				return runF(o)
			}
			return runReport(o)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the report to FILE; default: stdout")
	c.Flags().BoolVar(&o.text, "text", false, "a compact text report (utilisation, slowest jobs, failures) in 80 columns instead of HTML")
	c.Flags().StringVar(&o.service, "service", "", "report the futures of the executor service NAME")
	_ = c.RegisterFlagCompletionFunc("service", completeServiceFlag)
	return c
}

// runReport reads the records, then writes the report. A records file
// that cannot be read or parsed is a usage error (exit 2), and nothing is
// written.
func runReport(o *reportOptions) error {
	var jobs []report.Job
	title := "futures run"
	switch {
	case o.service != "":
		var err error
		if jobs, err = report.ReadService(context.Background(), o.service); err != nil {
			return usageError{err}
		}
		title = "futures service " + o.service
	case len(o.inputs) == 0:
		var err error
		if jobs, err = report.Read(o.f.stdin, "stdin"); err != nil {
			return usageError{err}
		}
	default:
		for _, name := range o.inputs {
			js, err := readReportInput(o.f.stdin, name)
			if err != nil {
				return usageError{err}
			}
			jobs = append(jobs, js...)
		}
		if len(o.inputs) == 1 && o.inputs[0] != "-" {
			title = o.inputs[0]
		}
	}
	w, done := o.f.stdout, func() error { return nil }
	if o.output != "" {
		file, err := os.Create(o.output)
		if err != nil {
			return usagef("-o: %v", err)
		}
		bw := bufio.NewWriter(file)
		w, done = bw, func() error { return errors.Join(bw.Flush(), file.Close()) }
	}
	err := writeReport(w, jobs, o.text, report.Options{Title: title})
	if err = errors.Join(err, done()); err != nil {
		fmt.Fprintf(o.f.stderr, "futures: report: %v\n", err)
		return exitStatus(1)
	}
	return nil
}

func readReportInput(stdin io.Reader, name string) ([]report.Job, error) {
	if name == "-" {
		return report.Read(stdin, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.Read(f, name)
}

func writeReport(w io.Writer, jobs []report.Job, text bool, opt report.Options) error {
	if text {
		return report.Text(w, jobs, opt)
	}
	return report.HTML(w, jobs, opt)
}

// reportFlag is --report FILE of submit, map and wait: the run's records
// are kept as they are emitted (an Observer in front of the progress
// bar's), and the page is written at the end of the run, also when a
// signal stopped it.
type reportFlag struct {
	path  string
	start time.Time
	jobs  []report.Job // appended by Finished, on the runner's emitting goroutine; read after the run
	next  runner.Observer
}

func (r *reportFlag) register(fs *pflag.FlagSet) {
	fs.Var((*reportPath)(&r.path), "report", "at the end of the run (also after Ctrl-C), write a timeline of it to FILE, an HTML page (see futures report)")
}

// reportPath is the value of --report: a file name, not empty.
type reportPath string

func (p *reportPath) String() string { return string(*p) }
func (p *reportPath) Type() string   { return "FILE" }
func (p *reportPath) Set(s string) error {
	if s == "" {
		return usagef("--report: empty; want FILE.html")
	}
	*p = reportPath(s)
	return nil
}

// observe puts r in front of opt's Observer when --report is given.
func (r *reportFlag) observe(opt *runner.Options) {
	if r.path == "" || opt.DryRun {
		return
	}
	r.start, r.next = time.Now(), opt.Observer
	opt.Observer = r
}

// Total passes n on.
func (r *reportFlag) Total(n int) {
	if r.next != nil {
		r.next.Total(n)
	}
}

// Finished keeps the job's record and passes it on.
func (r *reportFlag) Finished(res *runner.Result, c runner.Counts) {
	r.jobs = append(r.jobs, report.FromResult(res))
	if r.next != nil {
		r.next.Finished(res, c)
	}
}

// write writes the report of the run that ended with sum; a failure is
// said on stderr and makes the run fail (sum.Err).
func (r *reportFlag) write(f *factory, sum *runner.Summary) {
	if r.path == "" || r.start.IsZero() {
		return
	}
	err := func() error {
		file, err := os.Create(r.path)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(file)
		title := "futures run of " + r.start.Format("2006-01-02 15:04:05")
		err = report.HTML(bw, r.jobs, report.Options{Title: title, Wall: sum.Wall})
		return errors.Join(err, bw.Flush(), file.Close())
	}()
	if err != nil {
		fmt.Fprintf(f.stderr, "futures: --report: %v\n", err)
		if sum.Err == nil {
			sum.Err = fmt.Errorf("--report: %w", err)
		}
	}
}
