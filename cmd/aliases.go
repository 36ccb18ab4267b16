package cmd

import (
	"github.com/spf13/pflag"
)

// aliasFlags are the spellings of submit's, map's and wait's flags that
// GNU parallel and xargs users type from habit: -P/--jobs for -j,
// --line-buffer, --group and -u/--ungroup for --output, --bar and --eta
// for --progress always.
type aliasFlags struct {
	fs         *pflag.FlagSet
	lineBuffer bool
	group      bool
	ungroup    bool
	bar        bool
	eta        bool
}

func (a *aliasFlags) register(fs *pflag.FlagSet, c *commonFlags) {
	a.fs = fs
	fs.StringVarP(&c.jobs, "jobs", "P", "", "same as -j/--max-workers (GNU parallel's --jobs, xargs -P)")
	fs.BoolVar(&a.lineBuffer, "line-buffer", false, "same as --output line (GNU parallel's --line-buffer)")
	fs.BoolVar(&a.group, "group", false, "same as --output group, the default (GNU parallel's --group)")
	fs.BoolVarP(&a.ungroup, "ungroup", "u", false, "same as --output ungroup (GNU parallel's -u)")
	fs.BoolVar(&a.bar, "bar", false, "same as --progress always: futures' progress bar, with its ETA (for GNU parallel's --bar)")
	fs.BoolVar(&a.eta, "eta", false, "same as --progress always: futures' progress bar, with its ETA (for GNU parallel's --eta)")
}

// apply sets c's --output and --progress from the aliases given; giving
// two that disagree is a usage error.
func (a *aliasFlags) apply(c *commonFlags) error {
	output := ""
	for _, m := range []struct {
		set        bool
		flag, mode string
	}{{a.lineBuffer, "--line-buffer", "line"}, {a.group, "--group", "group"}, {a.ungroup, "--ungroup", "ungroup"}} {
		if !m.set {
			continue
		}
		if output != "" && output != m.mode || a.fs != nil && a.fs.Changed("output") && c.output != m.mode {
			return usagef("%s: --output, --line-buffer, --group and --ungroup choose the same thing: give one", m.flag)
		}
		output = m.mode
	}
	if output != "" {
		c.output = output
	}
	if a.bar || a.eta {
		if a.fs != nil && a.fs.Changed("progress") && c.progress != "always" {
			return usagef("--bar and --eta are --progress always: they do not go with --progress %s", c.progress)
		}
		c.progress = "always"
	}
	return nil
}
