package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/runner/shell"
)

// Where the workers of the process executor run: the -S/--sshlogin,
// --sshloginfile, --ssh, --launcher, --srun-args and --remote-futures
// flags, turned into the pool's Hosts.

// RemoteOptions put the process executor's workers on other machines. The
// zero value puts them on this one only.
type RemoteOptions struct {
	// Logins are the -S values: [N/]LOGIN, or several of them separated by
	// commas (see ParseLogins).
	Logins []string
	// LoginFile is --sshloginfile: one login per line.
	LoginFile string
	// SSH is --ssh, the ssh command line for the logins; "" means "ssh".
	SSH string
	// Launcher is --launcher: "srun" (each worker a Slurm job step of the
	// allocation this runs in) or a command line that runs `FUTURES
	// worker` somewhere, appended to it (`kubectl exec -i POD --`).
	Launcher string
	// SrunArgs are more arguments for srun (--srun-args), as words of a
	// command line.
	SrunArgs string
	// RemoteFutures is the futures binary on the other side
	// (--remote-futures). For ssh logins "" means one of our version found
	// or sent there (pool.PrepareSSH); for srun this program (Slurm nodes
	// share a file system); for another launcher "futures", the name on the
	// other side's PATH.
	RemoteFutures string
	// Jobs is -j as given, "" if it was not: the number of workers of each
	// login without N/ (N, N%, cpu or io, relative to that host's CPU
	// count, as GNU parallel's -j is with -S), of --launcher srun (default
	// $SLURM_NTASKS) and of another launcher (default this machine's CPU
	// count).
	Jobs string
}

// Enabled reports whether the options name any host or launcher: then the
// executor is the process executor.
func (o RemoteOptions) Enabled() bool {
	return len(o.Logins) > 0 || o.LoginFile != "" || o.Launcher != ""
}

// Login is one -S login: where, and how many workers.
type Login struct {
	// Workers is the N of N/HOST; 0 means as many as the host's CPU
	// count (or -j).
	Workers int
	// SSH is this login's own ssh command, in GNU parallel's form `ssh -p
	// 2222 HOST`; nil means --ssh.
	SSH []string
	// Host is the [user@]host ssh takes, or ":" for this machine.
	Host string
	// Name is the login as written, without N/: the host's name in
	// results and messages.
	Name string
}

// Local reports whether the login is ":", this machine.
func (l Login) Local() bool { return l.Host == ":" }

// ParseLogins parses one -S value: logins separated by commas, each
// [N/]LOGIN, GNU parallel's syntax. LOGIN is ":" (this machine, run without
// ssh), [user@]host, or an ssh command line ending with [user@]host (`ssh
// -p 2222 host`). N, when given, is a positive number of workers.
func ParseLogins(s string) ([]Login, error) {
	var logins []Login
	for part := range strings.SplitSeq(s, ",") {
		l, err := parseLogin(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		logins = append(logins, l)
	}
	return logins, nil
}

func parseLogin(s string) (Login, error) {
	var l Login
	if s == "" {
		return l, errors.New("empty login: want [N/]HOST")
	}
	rest := s
	if i := strings.IndexByte(s, '/'); i > 0 && strings.Trim(s[:i], "0123456789") == "" {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n <= 0 {
			return l, fmt.Errorf("login %q: N of N/HOST must be a positive number", s)
		}
		l.Workers, rest = n, s[i+1:]
	}
	l.Name = rest
	if rest == ":" {
		l.Host = rest
		return l, nil
	}
	words := []string{rest}
	if strings.ContainsAny(rest, " \t") || strings.ContainsAny(rest, `'"\`) {
		c, err := shell.ParseLine(rest)
		if err != nil || c.Shell {
			return l, fmt.Errorf("login %q: want [N/]HOST or [N/]SSH-COMMAND HOST, without shell syntax", s)
		}
		words = c.Argv
	}
	l.Host = words[len(words)-1]
	if len(words) > 1 {
		l.SSH = words[:len(words)-1]
	}
	switch {
	case l.Host == "":
		return l, fmt.Errorf("login %q: no host", s)
	case strings.HasPrefix(l.Host, "-"):
		return l, fmt.Errorf("login %q: a host cannot start with -", s)
	case strings.IndexFunc(l.Host, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) >= 0:
		return l, fmt.Errorf("login %q: want [N/]HOST; a host has no blanks, control characters or /", s)
	}
	return l, nil
}

// ReadLoginFile reads an --sshloginfile: one -S value per line (logins
// separated by commas allowed); blank lines and lines starting with # are
// skipped. A bad line is an error naming name:line.
func ReadLoginFile(r io.Reader, name string) ([]Login, error) {
	var logins []Login
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ls, err := ParseLogins(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		logins = append(logins, ls...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return logins, nil
}

// logins are all the logins of -S and --sshloginfile.
func (o RemoteOptions) logins() ([]Login, error) {
	var all []Login
	for _, s := range o.Logins {
		ls, err := ParseLogins(s)
		if err != nil {
			return nil, fmt.Errorf("-S %s: %w", s, err)
		}
		all = append(all, ls...)
	}
	if o.LoginFile != "" {
		f, err := os.Open(o.LoginFile)
		if err != nil {
			return nil, fmt.Errorf("--sshloginfile: %w", err)
		}
		defer f.Close()
		ls, err := ReadLoginFile(f, o.LoginFile)
		if err != nil {
			return nil, fmt.Errorf("--sshloginfile: %w", err)
		}
		if len(ls) == 0 {
			return nil, fmt.Errorf("--sshloginfile %s: no login in it", o.LoginFile)
		}
		all = append(all, ls...)
	}
	return all, nil
}

// Check checks the options without reaching any host: the logins, the
// --sshloginfile, the commands, -j, and that --launcher srun runs inside a
// Slurm allocation. Its errors are usage errors.
func (o RemoteOptions) Check() error {
	_, err := o.plan()
	return err
}

// plan is what Hosts does, before it reaches any host.
type plan struct {
	logins []Login
	ssh    []string // --ssh
	// launcher is the Host of --launcher, with its Workers.
	launcher *pool.Host
}

func (o RemoteOptions) plan() (plan, error) {
	var p plan
	if o.Jobs != "" {
		if _, err := ParseWorkers(o.Jobs, 1); err != nil {
			return p, err
		}
	}
	if o.SrunArgs != "" && o.Launcher != "srun" {
		return p, errors.New("--srun-args needs --launcher srun")
	}
	if o.Launcher != "" {
		if len(o.Logins) > 0 || o.LoginFile != "" {
			return p, errors.New("--launcher and -S/--sshloginfile: choose one")
		}
		h, err := o.launcherHost()
		if err != nil {
			return p, err
		}
		p.launcher = h
		return p, nil
	}
	var err error
	if p.logins, err = o.logins(); err != nil {
		return p, err
	}
	if o.SSH != "" {
		if p.ssh, err = commandWords(o.SSH); err != nil {
			return p, fmt.Errorf("--ssh: %w", err)
		}
	}
	return p, nil
}

// launcherHost is the Host of --launcher.
func (o RemoteOptions) launcherHost() (*pool.Host, error) {
	if o.Launcher == "srun" {
		if os.Getenv("SLURM_JOB_ID") == "" {
			return nil, errors.New("--launcher srun: run inside a Slurm allocation (salloc/sbatch): SLURM_JOB_ID is not set")
		}
		ntasks, _ := strconv.Atoi(os.Getenv("SLURM_NTASKS"))
		if ntasks <= 0 && o.Jobs == "" {
			return nil, errors.New("--launcher srun: run inside a Slurm allocation (salloc/sbatch) or give -j: SLURM_NTASKS is not set")
		}
		workers := ntasks
		if o.Jobs != "" {
			var err error
			if workers, err = hostWorkers(o.Jobs, max(ntasks, 1)); err != nil {
				return nil, err
			}
		}
		var args []string
		if o.SrunArgs != "" {
			c, err := shell.ParseLine(o.SrunArgs)
			if err != nil || c.Shell {
				return nil, fmt.Errorf("--srun-args %q: want words, quoted as for the shell, without shell syntax", o.SrunArgs)
			}
			args = c.Argv
		}
		futures := o.RemoteFutures
		if futures == "" {
			exe, err := os.Executable()
			if err != nil {
				return nil, fmt.Errorf("--launcher srun: finding this program: %w", err)
			}
			futures = exe
		}
		return &pool.Host{Launcher: pool.SrunLauncher(args, futures), Workers: workers}, nil
	}
	argv, err := commandWords(o.Launcher)
	if err != nil {
		return nil, fmt.Errorf("--launcher: %w", err)
	}
	workers := runtime.NumCPU()
	if o.Jobs != "" {
		if workers, err = hostWorkers(o.Jobs, workers); err != nil {
			return nil, err
		}
	}
	futures := o.RemoteFutures
	if futures == "" {
		futures = "futures"
	}
	return &pool.Host{Launcher: pool.CommandLauncher(argv, futures), Workers: workers}, nil
}

// commandWords is the argv of a command line that more words are appended
// to: its words, or a shell that runs it with them ("$@") when it needs
// one.
func commandWords(line string) ([]string, error) {
	c, err := shell.ParseLine(line)
	if err != nil {
		return nil, err
	}
	if c.Shell {
		return []string{"/bin/sh", "-c", line + ` "$@"`, "sh"}, nil
	}
	return c.Argv, nil
}

// maxPreparing bounds how many hosts are prepared at once.
const maxPreparing = 16

// Hosts reaches the hosts the options name and returns them for the pool
// (Options.Hosts), or nil when the options name none. Each ssh login is
// prepared first, all at once (a bounded number at a time; see
// pool.PrepareSSH): a futures binary of our version found or sent there, its
// CPU count read from its handshake for a login without N/. A note on
// stderr says when a binary was sent. A login that occurs twice is prepared
// once. ":" is this machine, through the pool's local launcher.
//
// A host that cannot be prepared (unreachable, another OS, a cache that
// cannot be written) is an error naming it, which matches
// pool.ErrBrokenProcessPool (exit status 3); under loss pool.LossRequeue
// it is dropped instead, with a message on stderr, and only when no host
// is left is it an error. Errors of the options themselves (see Check) are
// returned as they are. ctx bounds the preparation.
//
// The worker that answered a host's preparation keeps running: the host's
// launcher (a pool.RemoteLauncher) hands it out as the first worker it
// launches, so that when the binary is already on the host, its first
// worker costs one ssh session. The pool ends it at Shutdown if it was
// never used; a caller that makes no pool of the hosts must close their
// launchers (io.Closer).
func (o RemoteOptions) Hosts(ctx context.Context, loss pool.WorkerLoss, stderr io.Writer) (hosts []pool.Host, err error) {
	if !o.Enabled() {
		return nil, nil
	}
	p, err := o.plan()
	if err != nil {
		return nil, err
	}
	if p.launcher != nil {
		return []pool.Host{*p.launcher}, nil
	}

	type prepared struct {
		rf   pool.RemoteFutures
		err  error
		once sync.Once
	}
	preps := map[string]*prepared{}
	key := func(l Login) string { return strings.Join(l.SSH, "\x00") + "\x00" + l.Host }
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxPreparing)
	for _, l := range p.logins {
		k := key(l)
		if l.Local() || preps[k] != nil {
			continue
		}
		pr := &prepared{}
		preps[k] = pr
		ssh := l.SSH
		if ssh == nil {
			ssh = p.ssh
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				pr.err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			pr.rf, pr.err = pool.PrepareSSH(ctx, pool.SSHHost{SSH: ssh, Login: l.Host, Futures: o.RemoteFutures, Label: l.Name})
		})
	}
	wg.Wait()
	// The worker that answered each preparation runs on: it becomes the
	// first worker of its host's launcher (one ssh session for it, not
	// two), or ends here when there will be no pool.
	var launchers []*pool.RemoteLauncher
	defer func() {
		if err != nil {
			for _, pr := range preps {
				_ = pr.rf.Close()
			}
			for _, l := range launchers {
				_ = l.Close()
			}
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var failed []error
	for _, l := range p.logins {
		if l.Local() {
			n, err := o.workers(l, runtime.NumCPU())
			if err != nil {
				return nil, err
			}
			hosts = append(hosts, pool.Host{Name: l.Name, Launcher: &pool.LocalLauncher{}, Workers: n})
			continue
		}
		pr := preps[key(l)]
		if pr.err != nil {
			pr.once.Do(func() { failed = append(failed, pr.err) })
			continue
		}
		pr.once.Do(func() {
			if pr.rf.Sent > 0 {
				_, _ = fmt.Fprintf(stderr, "futures: %s: sent futures %s (%.1f MB) to %s\n",
					l.Name, pr.rf.Hello.Futures, float64(pr.rf.Sent)/1e6, pr.rf.ShortPath())
			}
		})
		n, err := o.workers(l, pr.rf.Hello.CPUs)
		if err != nil {
			return nil, err
		}
		ssh := l.SSH
		if ssh == nil {
			ssh = p.ssh
		}
		launcher := pool.SSHLauncher(ssh, l.Host, pr.rf.Path)
		hosts = append(hosts, pool.Host{Name: l.Name, Launcher: launcher, Workers: n})
		launchers = append(launchers, launcher)
		if pr.rf.Worker != nil {
			launcher.Adopt(pr.rf.Worker)
			pr.rf.Worker = nil
		}
	}
	if len(failed) > 0 {
		if loss != pool.LossRequeue || len(hosts) == 0 {
			return nil, fmt.Errorf("%w: %w", pool.ErrBrokenProcessPool, errors.Join(failed...))
		}
		for _, err := range failed {
			_, _ = fmt.Fprintf(stderr, "futures: %v; going on without it (--worker-loss requeue)\n", err)
		}
	}
	return hosts, nil
}

// workers is the number of workers of login l on a host of cpus CPUs.
func (o RemoteOptions) workers(l Login, cpus int) (int, error) {
	if l.Workers > 0 {
		return l.Workers, nil
	}
	cpus = max(cpus, 1)
	if o.Jobs == "" {
		return cpus, nil
	}
	return hostWorkers(o.Jobs, cpus)
}

// hostWorkers parses the -j of a host that a launcher or ssh reaches, of
// cpus CPUs (or Slurm tasks): there, -j 0 is cpus, not NoLimit, for each
// worker is a login or a task of its own and a host has no window.
func hostWorkers(jobs string, cpus int) (int, error) {
	n, err := ParseWorkers(jobs, cpus)
	if n == NoLimit {
		n = cpus
	}
	return n, err
}

// ParseWorkerLoss parses --worker-loss: "break" (the default) or
// "requeue".
func ParseWorkerLoss(s string) (pool.WorkerLoss, error) {
	switch s {
	case "", "break":
		return pool.LossBreak, nil
	case "requeue":
		return pool.LossRequeue, nil
	}
	return pool.LossBreak, fmt.Errorf("--worker-loss %q: want break or requeue", s)
}
