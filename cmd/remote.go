package cmd

import (
	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner"
)

// remoteFlags are the flags that put the process executor's workers on
// other machines (runner.RemoteOptions), and --worker-loss.
type remoteFlags struct {
	fs            *pflag.FlagSet
	logins        []string
	loginFile     string
	ssh           string
	launcher      string
	srunArgs      string
	remoteFutures string
	workerLoss    string
}

func (f *remoteFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringArrayVarP(&f.logins, "sshlogin", "S", nil, "run workers on [N/]HOST over ssh: N workers (default: the host's CPU count, or -j of it); : is this machine; repeatable, or HOST,N/HOST,… (implies --executor process)")
	fs.StringVar(&f.loginFile, "sshloginfile", "", "read -S logins from FILE, one per line (# comments)")
	fs.StringVar(&f.ssh, "ssh", "", `ssh command line for -S (default "ssh"), e.g. 'ssh -p 2222 -i key'`)
	fs.StringVar(&f.launcher, "launcher", "", "start workers with srun (one Slurm job step each, inside salloc/sbatch; -j defaults to $SLURM_NTASKS) or with CMD + 'futures worker', e.g. 'kubectl exec -i POD --' (implies --executor process)")
	fs.StringVar(&f.srunArgs, "srun-args", "", "more arguments for srun (--launcher srun)")
	fs.StringVar(&f.remoteFutures, "remote-futures", "", "the futures binary on the other side (default: over ssh, one of this version found or sent there; srun: this binary; --launcher CMD: futures)")
	fs.StringVar(&f.workerLoss, "worker-loss", "break", "when a worker process dies: break (the pool breaks, exit 3) or requeue (its job runs again once, the worker is restarted; a host that keeps failing is dropped)")
}

// enabled reports whether the flags name hosts or a launcher.
func (f *remoteFlags) enabled() bool {
	return len(f.logins) > 0 || f.loginFile != "" || f.launcher != ""
}

// executor makes c's executor the process executor when the flags name
// hosts or a launcher; an explicit --executor thread with them is a usage
// error.
func (f *remoteFlags) executor(c *commonFlags) error {
	if !f.enabled() {
		return nil
	}
	if f.fs != nil && f.fs.Changed("executor") && c.executor != runner.ProcessExecutor {
		return usagef("-S, --sshloginfile and --launcher run workers in processes: they do not go with --executor %s", c.executor)
	}
	c.executor = runner.ProcessExecutor
	return nil
}

// apply checks the flags and sets them in o; jobs is -j as given.
func (f *remoteFlags) apply(o *runner.Options, jobs string) error {
	if err := workerLossChoice.check(f.workerLoss); err != nil {
		return err
	}
	loss, err := runner.ParseWorkerLoss(f.workerLoss)
	if err != nil {
		return usageError{err}
	}
	if loss == pool.LossRequeue && o.Executor != runner.ProcessExecutor {
		return usagef("--worker-loss requeue needs --executor process (or -S, --sshloginfile, --launcher)")
	}
	o.WorkerLoss = loss
	r := runner.RemoteOptions{
		Logins: f.logins, LoginFile: f.loginFile, SSH: f.ssh, Launcher: f.launcher,
		SrunArgs: f.srunArgs, RemoteFutures: f.remoteFutures, Jobs: jobs,
	}
	if !r.Enabled() {
		for name, v := range map[string]string{"--ssh": f.ssh, "--srun-args": f.srunArgs, "--remote-futures": f.remoteFutures} {
			if v != "" {
				return usagef("%s needs -S, --sshloginfile or --launcher", name)
			}
		}
		return nil
	}
	if err := r.Check(); err != nil {
		return usageError{err}
	}
	o.Remote = r
	return nil
}
