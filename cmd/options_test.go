package cmd

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner"
)

// commonOf parses `futures NAME args…` for submit, map (whose COMMAND,
// echo, is appended) or wait, and returns the common flags and the
// runner.Options they make.
func commonOf(t *testing.T, f *factory, name string, args ...string) (*commonFlags, runner.Options, error) {
	t.Helper()
	var c *commonFlags
	switch name {
	case "submit":
		c = &parseArgs(t, f, newCmdSubmit, args...).commonFlags
	case "map":
		c = &parseArgs(t, f, newCmdMap, append(slices.Clone(args), "echo")...).commonFlags
	case "wait":
		c = &parseArgs(t, f, newCmdWait, args...).commonFlags
	default:
		t.Fatalf("no command %s", name)
	}
	opt, err := c.runnerOptions(f)
	return c, opt, err
}

func TestTheDefaultsOfSubmitMapAndWait(t *testing.T) {
	for _, name := range []string{"submit", "map", "wait"} {
		t.Run(name, func(t *testing.T) {
			f, stdout, stderr := testFactory(nil)
			c, opt, err := commonOf(t, f, name)
			if err != nil {
				t.Fatal(err)
			}
			want := runner.Options{
				Workers: testCPUs, Executor: runner.ThreadExecutor, WorkerPrefix: "worker",
				KeepOrder: name == "map", Output: runner.Group, Grace: 5 * time.Second,
				ResumeBy: runner.ResumeBySeq, Shell: []string{"/bin/sh", "-c"},
				WorkerLoss: pool.LossBreak, Halt: runner.Halt{When: runner.HaltNever},
				Stdout: stdout, Stderr: stderr,
			}
			if !reflect.DeepEqual(opt, want) {
				t.Errorf("runner.Options:\n got %+v\nwant %+v", opt, want)
			}
			if c.progress != "auto" || c.quiet || c.null || c.delimiter != "" {
				t.Errorf("progress %q, quiet %v, null %v, delimiter %q; want auto, false, false, \"\"", c.progress, c.quiet, c.null, c.delimiter)
			}
		})
	}
}

// TestCommonFlagsMakeRunnerOptions holds what each flag that submit, map
// and wait share, and each of its aliases, sets in runner.Options.
func TestCommonFlagsMakeRunnerOptions(t *testing.T) {
	halt, err := runner.ParseHalt("soon,fail=10%")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		edit     func(o *runner.Options)
		progress string // "" is auto
	}{
		{"-j N is the number of workers", []string{"-j", "7"}, nil, func(o *runner.Options) { o.Workers = 7 }, ""},
		{"--max-workers is -j", []string{"--max-workers=3"}, nil, func(o *runner.Options) { o.Workers = 3 }, ""},
		{"-P is -j, as xargs -P", []string{"-P", "2"}, nil, func(o *runner.Options) { o.Workers = 2 }, ""},
		{"--jobs is -j, as GNU parallel's", []string{"--jobs", "9"}, nil, func(o *runner.Options) { o.Workers = 9 }, ""},
		{"-j N% is a share of the CPUs", []string{"-j", "50%"}, nil, func(o *runner.Options) { o.Workers = testCPUs / 2 }, ""},
		{"-j cpu is the CPUs and one", []string{"-j", "cpu"}, nil, func(o *runner.Options) { o.Workers = testCPUs + 1 }, ""},
		{"-j io is five times the CPUs", []string{"-j", "io"}, nil, func(o *runner.Options) { o.Workers = 5 * testCPUs }, ""},
		{"-j 0 is no limit", []string{"-j", "0"}, nil, func(o *runner.Options) { o.Workers = runner.NoLimit }, ""},
		{"--output line", []string{"--output", "line"}, nil, func(o *runner.Options) { o.Output = runner.Line }, ""},
		{"--line-buffer is --output line", []string{"--line-buffer"}, nil, func(o *runner.Options) { o.Output = runner.Line }, ""},
		{"-u is --output ungroup", []string{"-u"}, nil, func(o *runner.Options) { o.Output = runner.Ungroup }, ""},
		{"--ungroup is --output ungroup", []string{"--ungroup"}, nil, func(o *runner.Options) { o.Output = runner.Ungroup }, ""},
		{"--group is --output group", []string{"--output", "group", "--group"}, nil, func(o *runner.Options) { o.Output = runner.Group }, ""},
		{"an alias may repeat what --output says", []string{"--output", "line", "--line-buffer"}, nil, func(o *runner.Options) { o.Output = runner.Line }, ""},
		{"--bar is --progress always", []string{"--bar"}, nil, func(o *runner.Options) {}, "always"},
		{"--eta is --progress always", []string{"--eta", "--progress", "always"}, nil, func(o *runner.Options) {}, "always"},
		{"--progress never", []string{"--progress", "never"}, nil, func(o *runner.Options) {}, "never"},
		{"-S implies the process executor", []string{"-S", "2/host1", "-S", "host2"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.Remote = runner.RemoteOptions{Logins: []string{"2/host1", "host2"}}
		}, ""},
		{"--launcher implies the process executor and keeps -j as given", []string{"--launcher", "kubectl exec -i pod --", "-j", "3", "--remote-futures", "/opt/futures"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.Workers = 3
			o.Remote = runner.RemoteOptions{Launcher: "kubectl exec -i pod --", RemoteFutures: "/opt/futures", Jobs: "3"}
		}, ""},
		{"-S with --executor process says it twice", []string{"--executor", "process", "-S", "h", "--ssh", "ssh -p 2222"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.Remote = runner.RemoteOptions{Logins: []string{"h"}, SSH: "ssh -p 2222"}
		}, ""},
		{"the process executor's own flags", []string{"--executor", "process", "--max-tasks-per-child", "10", "--worker-loss", "requeue", "--initializer", "source env.sh", "--worker-prefix", "w"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.MaxTasksPerChild = 10
			o.WorkerLoss = pool.LossRequeue
			o.Initializer = "source env.sh"
			o.WorkerPrefix = "w"
		}, ""},
		{"durations take bare seconds", []string{"--job-timeout", "1.5", "--timeout", "1m", "--grace", "0", "--delay", "250ms"}, nil, func(o *runner.Options) {
			o.JobTimeout = 1500 * time.Millisecond
			o.Timeout = time.Minute
			o.Grace = 0
			o.Delay = 250 * time.Millisecond
		}, ""},
		{"the switches", []string{"-k", "--tag", "--json", "--dry-run", "--fail-fast", "--retries", "2", "-q"}, nil, func(o *runner.Options) {
			o.KeepOrder, o.Tag, o.JSON, o.DryRun, o.FailFast, o.Retries = true, true, true, true, true, 2
		}, ""},
		{"--joblog with --resume-failed by command", []string{"--joblog", "jobs.log", "--resume-failed", "--resume-by", "command"}, nil, func(o *runner.Options) {
			o.Joblog, o.ResumeFailed, o.ResumeBy = "jobs.log", true, runner.ResumeByCommand
		}, ""},
		{"--shell", []string{"--shell", "/bin/bash"}, nil, func(o *runner.Options) { o.Shell = []string{"/bin/bash", "-c"} }, ""},
		{"--halt", []string{"--halt", "soon,fail=10%"}, nil, func(o *runner.Options) { o.Halt = halt }, ""},
		{"--load N% is of the CPUs, read from FUTURES_PROC", []string{"--load", "150%"}, map[string]string{procEnv: "/tmp/proc"}, func(o *runner.Options) {
			o.Load = 1.5 * testCPUs
			o.ProcDir = "/tmp/proc"
		}, ""},
		{"--memfree is a size", []string{"--memfree", "1G"}, nil, func(o *runner.Options) { o.MemFree = 1 << 30 }, ""},
		{"FUTURES_PROC only matters with --load or --memfree", []string{"--results", "out"}, map[string]string{procEnv: "/tmp/proc"}, func(o *runner.Options) { o.Results = "out" }, ""},
		{"--trc is --transfer --return FILE --cleanup", []string{"-S", "h", "--trc", "{}.out"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.Remote = runner.RemoteOptions{Logins: []string{"h"}}
			o.TransferItem, o.Return, o.Cleanup = true, []string{"{}.out"}, true
		}, ""},
		{"--tf is --transferfile", []string{"--executor", "process", "--transferfile", "a", "--tf", "b", "--return", "c"}, nil, func(o *runner.Options) {
			o.Executor = runner.ProcessExecutor
			o.Transfer, o.Return = []string{"a", "b"}, []string{"c"}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _ := testFactory(tc.env)
			_, want, err := commonOf(t, f, "submit")
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(&want)
			c, got, err := commonOf(t, f, "submit", tc.args...)
			if err != nil {
				t.Fatalf("%q: %v", tc.args, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, want)
			}
			wantProgress := tc.progress
			if wantProgress == "" {
				wantProgress = "auto"
			}
			if c.progress != wantProgress {
				t.Errorf("%q: progress %q, want %q", tc.args, c.progress, wantProgress)
			}
		})
	}
}

// TestCommonFlagsUsageErrors holds the usage errors of the flags that
// submit, map and wait share: the message, exit status 2, and nothing run.
func TestCommonFlagsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-j", "many"}, `-j "many": want N, N%, cpu, io or 0 (no limit)`},
		{[]string{"-P", "-2"}, `-j "-2": want N, N%, cpu, io or 0 (no limit)`},
		{[]string{"--executor", "fork"}, `--executor "fork": want thread or process`},
		{[]string{"--max-tasks-per-child", "-1"}, `--max-tasks-per-child -1: want 0 (no limit) or more`},
		{[]string{"--max-tasks-per-child", "2"}, `--max-tasks-per-child needs --executor process`},
		{[]string{"--output", "lines"}, `--output "lines": want group, line or ungroup`},
		{[]string{"--line-buffer", "-u"}, `--ungroup: --output, --line-buffer, --group and --ungroup choose the same thing: give one`},
		{[]string{"--output", "ungroup", "--group"}, `--group: --output, --line-buffer, --group and --ungroup choose the same thing: give one`},
		{[]string{"--progress", "never", "--bar"}, `--bar and --eta are --progress always: they do not go with --progress never`},
		{[]string{"--progress", "sometimes"}, `--progress "sometimes": want auto, always or never`},
		{[]string{"--resume"}, `--resume and --resume-failed need --joblog FILE`},
		{[]string{"--joblog", "l", "--resume", "--resume-by", "line"}, `--resume-by "line": want seq or command`},
		{[]string{"--joblog", "l", "--resume-by", "command"}, `--resume-by needs --resume or --resume-failed`},
		{[]string{"--retries", "-1"}, `--retries -1: want 0 or more`},
		{[]string{"--shell", ""}, `--shell: empty`},
		{[]string{"-S", "h", "--executor", "thread"}, `-S, --sshloginfile and --launcher run workers in processes: they do not go with --executor thread`},
		{[]string{"--worker-loss", "requeue"}, `--worker-loss requeue needs --executor process (or -S, --sshloginfile, --launcher)`},
		{[]string{"--worker-loss", "retry"}, `--worker-loss "retry": want break or requeue`},
		{[]string{"--ssh", "ssh -p 2"}, `--ssh needs -S, --sshloginfile or --launcher`},
		{[]string{"--srun-args", "-N1"}, `--srun-args needs -S, --sshloginfile or --launcher`},
		{[]string{"--fail-fast", "--halt", "now,fail=1"}, `--fail-fast is --halt now,fail=1: give one of them`},
		{[]string{"--load", "0"}, `--load "0": want a load average above 0 (2, 1.5) or a share of the CPUs (100%)`},
		{[]string{"--memfree", "lots"}, `--memfree "lots": want a size, like 1G or 500M`},
		{[]string{"--transfer"}, `--transfer needs remote workers (-S, --launcher) or --executor process`},
		{[]string{"--cleanup"}, `--cleanup needs remote workers (-S, --launcher) or --executor process`},
		{[]string{"--executor", "process", "--return", ""}, `--transferfile, --return, --trc: an empty file name`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			f, stdout, _ := testFactory(nil)
			ran := false
			status, stderr := runArgs(t, f, newCmdSubmit, func(o *submitOptions) error {
				_, err := o.runnerOptions(o.f)
				if err != nil && !errors.As(err, new(usageError)) {
					t.Errorf("%q: %v is not a usage error", tc.args, err)
				}
				ran = err == nil
				return err
			}, tc.args...)
			if status != 2 || ran {
				t.Errorf("%q: exit status %d, options made: %v; want 2, false", tc.args, status, ran)
			}
			if want := usageMessage("submit", tc.want); stderr != want {
				t.Errorf("%q: stderr\n%q\nwant\n%q", tc.args, stderr, want)
			}
			if stdout.Len() > 0 {
				t.Errorf("%q: stdout %q", tc.args, stdout)
			}
		})
	}
}

// TestFlagsThatDoNotParseStopBeforeRunF: a value a flag cannot take, or a
// flag that does not exist, is a usage error of the parser: runF is not
// called.
func TestFlagsThatDoNotParseStopBeforeRunF(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--timeout", "5x"}, `--timeout "5x": want a duration like 10, 0.5, 1m30s`},
		{[]string{"--grace", "-1"}, `--grace "-1": want a duration of 0 or more, like 10, 0.5, 1m30s`},
		{[]string{"--retries", "two"}, `invalid argument "two" for "--retries" flag: strconv.ParseInt: parsing "two": invalid syntax`},
		{[]string{"--outptu", "line"}, "unknown flag: --outptu\n\nDid you mean this?\n\t--output\n"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			f, _, _ := testFactory(nil)
			called := false
			status, stderr := runArgs(t, f, newCmdSubmit, func(*submitOptions) error { called = true; return nil }, tc.args...)
			if status != 2 || called {
				t.Errorf("%q: exit status %d, runF called: %v; want 2, false", tc.args, status, called)
			}
			if want := usageMessage("submit", tc.want); stderr != want {
				t.Errorf("%q: stderr\n%q\nwant\n%q", tc.args, stderr, want)
			}
		})
	}
}
