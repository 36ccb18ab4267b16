package cmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
)

// procEnv names the environment variable that points --load and --memfree
// at another directory than /proc, holding files named loadavg and
// meminfo: a test hook, so that a test can hold jobs back at will.
const procEnv = "FUTURES_PROC"

// controlFlags are the flags of submit, map and wait that control when
// jobs start and stop, and where results go: --halt, --delay, --load,
// --memfree, --results.
type controlFlags struct {
	halt    string
	delay   time.Duration
	load    string
	memfree string
	results string
}

func (f *controlFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.halt, "halt", "never", "halt when: never, or soon|now,fail|success|done=N|N% (as GNU parallel: soon lets the running jobs finish, now terminates them)")
	durationVar(fs, &f.delay, "delay", 0, "wait this long between two job starts (500ms, 2s; a bare number is seconds)")
	fs.StringVar(&f.load, "load", "", "start a job only while the 1-minute load average is below MAX (N, or N% of the CPUs)")
	fs.StringVar(&f.memfree, "memfree", "", "start a job only while SIZE of memory is available (1G, 500M); below half of it, terminate the youngest job and run it again later")
	fs.StringVar(&f.results, "results", "", "write each job's result under DIR/<seq>/ (stdout, stderr, meta.json), or one record per job to FILE.jsonl or FILE.csv")
}

// apply checks the flags and sets them in o; p gives the CPU count (--load
// N%) and the environment.
func (f *controlFlags) apply(o *runner.Options, p *factory) error {
	if f.halt != "" {
		h, err := runner.ParseHalt(f.halt)
		if err != nil {
			return usageError{err}
		}
		if o.FailFast && h.When != runner.HaltNever {
			return usagef("--fail-fast is --halt now,fail=1: give one of them")
		}
		o.Halt = h
	}
	o.Delay = f.delay
	if f.load != "" {
		l, err := runner.ParseLoad(f.load, p.numCPU())
		if err != nil {
			return usageError{err}
		}
		o.Load = l
	}
	if f.memfree != "" {
		n, err := input.ParseSize(f.memfree)
		if err != nil || n <= 0 {
			return usagef("--memfree %q: want a size, like 1G or 500M", f.memfree)
		}
		o.MemFree = n
	}
	if o.Load > 0 || o.MemFree > 0 {
		o.ProcDir = p.getenv(procEnv)
	}
	o.Results = f.results
	return nil
}
