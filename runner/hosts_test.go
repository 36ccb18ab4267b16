package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/futures-cli/futures/pool"
)

func TestParseLogins(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Login
	}{
		{"a host", "h1", []Login{{Host: "h1", Name: "h1"}}},
		{"a user at a host", "ann@h1.example.org", []Login{{Host: "ann@h1.example.org", Name: "ann@h1.example.org"}}},
		{"N workers on a host", "4/h1", []Login{{Workers: 4, Host: "h1", Name: "h1"}}},
		{"this machine", ":", []Login{{Host: ":", Name: ":"}}},
		{"N workers on this machine", "2/:", []Login{{Workers: 2, Host: ":", Name: ":"}}},
		{"a list, as GNU parallel takes it", "h1,2/h2, :", []Login{
			{Host: "h1", Name: "h1"}, {Workers: 2, Host: "h2", Name: "h2"}, {Host: ":", Name: ":"}}},
		{"an ssh command of its own", "3/ssh -p 2222 ann@h1", []Login{
			{Workers: 3, SSH: []string{"ssh", "-p", "2222"}, Host: "ann@h1", Name: "ssh -p 2222 ann@h1"}}},
		{"an ssh command with a quoted path", `/usr/bin/ssh -i '/my keys/k' h1`, []Login{
			{SSH: []string{"/usr/bin/ssh", "-i", "/my keys/k"}, Host: "h1", Name: `/usr/bin/ssh -i '/my keys/k' h1`}}},
		{"an IPv6 address", "::1", []Login{{Host: "::1", Name: "::1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLogins(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%q: %+v, want %+v", tc.in, got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Workers != w.Workers || g.Host != w.Host || g.Name != w.Name || !slices.Equal(g.SSH, w.SSH) {
					t.Errorf("%q [%d]: %+v, want %+v", tc.in, i, g, w)
				}
			}
		})
	}
}

func TestParseLoginsRefusesBadOnes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty login: want [N/]HOST"},
		{"h1,,h2", "empty login: want [N/]HOST"},
		{"0/h1", `login "0/h1": N of N/HOST must be a positive number`},
		{"99999999999999999999/h1", `login "99999999999999999999/h1": N of N/HOST must be a positive number`},
		{"x/h1", `login "x/h1": want [N/]HOST; a host has no blanks, control characters or /`},
		{"2/", `login "2/": no host`},
		{"-oProxyCommand=evil", `login "-oProxyCommand=evil": a host cannot start with -`},
		{"ssh h1 | tee", `login "ssh h1 | tee": want [N/]HOST or [N/]SSH-COMMAND HOST, without shell syntax`},
		{"ssh 'h1", `login "ssh 'h1": want [N/]HOST or [N/]SSH-COMMAND HOST, without shell syntax`},
		{"h\x01", `login "h\x01": want [N/]HOST; a host has no blanks, control characters or /`},
	} {
		_, err := ParseLogins(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseLogins(%q): %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestReadLoginFile(t *testing.T) {
	file := `# the cluster
h1

  2/h2   
# h3 is down
:,1/h4
`
	got, err := ReadLoginFile(strings.NewReader(file), "hosts.txt")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range got {
		names = append(names, l.Name)
	}
	if strings.Join(names, " ") != "h1 h2 : h4" || got[1].Workers != 2 || got[3].Workers != 1 {
		t.Errorf("got %+v", got)
	}

	_, err = ReadLoginFile(strings.NewReader("h1\n\n0/h2\n"), "hosts.txt")
	if err == nil || err.Error() != `hosts.txt:3: login "0/h2": N of N/HOST must be a positive number` {
		t.Errorf("a bad line: %v", err)
	}
}

func FuzzParseLogins(f *testing.F) {
	for _, s := range []string{"h1", "2/h1", ":", "h1,2/h2", "ssh -p 22 h1", "0/x", "/", "a/b/c", "'", " , ", "-x", "ann@h1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		logins, err := ParseLogins(s)
		if err != nil {
			return
		}
		if len(logins) == 0 {
			t.Fatalf("ParseLogins(%q): no login and no error", s)
		}
		for _, l := range logins {
			if l.Workers < 0 || l.Host == "" || strings.HasPrefix(l.Host, "-") ||
				strings.ContainsAny(l.Host, " \t\n/") || l.Name == "" {
				t.Fatalf("ParseLogins(%q): bad login %+v", s, l)
			}
			// A login's name parses back to the same login.
			again, err := ParseLogins(l.Name)
			if err != nil || len(again) != 1 || again[0].Host != l.Host || !slices.Equal(again[0].SSH, l.SSH) {
				t.Fatalf("ParseLogins(%q): %+v; its name parses to %+v, %v", s, l, again, err)
			}
		}
		// So does the login file of these lines.
		if _, err := ReadLoginFile(strings.NewReader(s), "f"); err != nil && !strings.Contains(s, "\n") && !strings.HasPrefix(strings.TrimSpace(s), "#") {
			t.Fatalf("ReadLoginFile(%q): %v", s, err)
		}
	})
}

func TestRemoteOptionsCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("h1\n2/h2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("h1\n0/h2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLURM_JOB_ID", "")
	for _, tc := range []struct {
		name string
		o    RemoteOptions
		want string // "" for no error
	}{
		{"logins", RemoteOptions{Logins: []string{"h1", "2/h2,:"}, SSH: "ssh -p 2222"}, ""},
		{"a login file", RemoteOptions{LoginFile: good}, ""},
		{"a bad login", RemoteOptions{Logins: []string{"h1", "0/h2"}}, `-S 0/h2: login "0/h2": N of N/HOST must be a positive number`},
		{"a bad line in the login file", RemoteOptions{LoginFile: bad}, `--sshloginfile: ` + bad + `:2: login "0/h2": N of N/HOST must be a positive number`},
		{"an empty login file", RemoteOptions{LoginFile: empty}, `--sshloginfile ` + empty + `: no login in it`},
		{"no login file", RemoteOptions{LoginFile: filepath.Join(dir, "none")}, `--sshloginfile: open ` + filepath.Join(dir, "none") + `: no such file or directory`},
		{"a bad --ssh", RemoteOptions{Logins: []string{"h1"}, SSH: "ssh 'x"}, `--ssh: syntax error: unterminated single quote at byte offset 4`},
		{"a bad -j", RemoteOptions{Logins: []string{"h1"}, Jobs: "many"}, `-j "many": want N, N%, cpu, io or 0 (no limit)`},
		{"a launcher with logins", RemoteOptions{Logins: []string{"h1"}, Launcher: "srun"}, "--launcher and -S/--sshloginfile: choose one"},
		{"srun outside an allocation", RemoteOptions{Launcher: "srun"}, "--launcher srun: run inside a Slurm allocation (salloc/sbatch): SLURM_JOB_ID is not set"},
		{"--srun-args without srun", RemoteOptions{Launcher: "docker exec -i c", SrunArgs: "-p x"}, "--srun-args needs --launcher srun"},
		{"a command launcher", RemoteOptions{Launcher: "kubectl exec -i pod-0 --"}, ""},
		{"a bad command launcher", RemoteOptions{Launcher: `kubectl "exec`}, `--launcher: syntax error: unterminated double quote at byte offset 8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Check()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("Check: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSrunHostInsideAnAllocation(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLURM_JOB_ID", "42")
	for _, tc := range []struct {
		name, ntasks, jobs string
		workers            int
		want               string
	}{
		{"-j from SLURM_NTASKS", "6", "", 6, ""},
		{"-j given", "6", "2", 2, ""},
		{"-j relative to SLURM_NTASKS", "6", "50%", 3, ""},
		{"-j without SLURM_NTASKS", "", "3", 3, ""},
		{"neither", "", "", 0, "--launcher srun: run inside a Slurm allocation (salloc/sbatch) or give -j: SLURM_NTASKS is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLURM_NTASKS", tc.ntasks)
			o := RemoteOptions{Launcher: "srun", SrunArgs: "--mem=1G -p 'my part'", Jobs: tc.jobs}
			hosts, err := o.Hosts(context.Background(), pool.LossBreak, nil)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("got %v, want %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(hosts) != 1 || hosts[0].Name != "" || hosts[0].Workers != tc.workers {
				t.Fatalf("got %+v", hosts)
			}
			l := hosts[0].Launcher.(*pool.RemoteLauncher)
			want := []string{"srun", "--exclusive", "-N1", "-n1", "--unbuffered", "--quiet", "--mem=1G", "-p", "my part", exe, "worker"}
			if !slices.Equal(l.Command, want) {
				t.Errorf("argv %q, want %q", l.Command, want)
			}
		})
	}
}

func TestCommandLauncherHost(t *testing.T) {
	for _, tc := range []struct {
		o       RemoteOptions
		argv    []string
		workers int
	}{
		{RemoteOptions{Launcher: "docker exec -i ctr"}, []string{"docker", "exec", "-i", "ctr", "futures", "worker"}, runtime.NumCPU()},
		{RemoteOptions{Launcher: "kubectl exec -i pod-0 --", RemoteFutures: "/opt/futures", Jobs: "3"},
			[]string{"kubectl", "exec", "-i", "pod-0", "--", "/opt/futures", "worker"}, 3},
		{RemoteOptions{Launcher: "kubectl exec -i $POD --"},
			[]string{"/bin/sh", "-c", `kubectl exec -i $POD -- "$@"`, "sh", "futures", "worker"}, runtime.NumCPU()},
	} {
		hosts, err := tc.o.Hosts(context.Background(), pool.LossBreak, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(hosts) != 1 || hosts[0].Name != "" || hosts[0].Workers != tc.workers {
			t.Fatalf("%+v: got %+v", tc.o, hosts)
		}
		if l := hosts[0].Launcher.(*pool.RemoteLauncher); !slices.Equal(l.Command, tc.argv) {
			t.Errorf("%+v: argv %q, want %q", tc.o, l.Command, tc.argv)
		}
	}
}

func TestHostsOfThisMachineOnly(t *testing.T) {
	hosts, err := RemoteOptions{Logins: []string{":", "3/:"}, Jobs: "200%"}.Hosts(context.Background(), pool.LossBreak, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].Name != ":" || hosts[0].Workers != 2*runtime.NumCPU() || hosts[1].Workers != 3 {
		t.Fatalf("got %+v", hosts)
	}
	if _, ok := hosts[0].Launcher.(*pool.LocalLauncher); !ok {
		t.Errorf("launcher %T", hosts[0].Launcher)
	}
}

// unreachableSSH is an ssh that reaches nothing.
func unreachableSSH(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh")
	script := "#!/bin/sh\necho \"ssh: connect to host $1 port 22: Connection refused\" >&2\nexit 255\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAHostThatCannotBeReached(t *testing.T) {
	o := RemoteOptions{Logins: []string{"down1,2/down2,:"}, SSH: unreachableSSH(t)}
	_, err := o.Hosts(context.Background(), pool.LossBreak, nil)
	if !errors.Is(err, pool.ErrBrokenProcessPool) ||
		!strings.Contains(err.Error(), "down1: probing the host: ssh: connect to host down1 port 22: Connection refused (exit status 255)") ||
		!strings.Contains(err.Error(), "down2: probing") {
		t.Errorf("under break: %v", err)
	}
	if s := setupSummary(context.Background(), err); s.ExitStatus() != 3 {
		t.Errorf("exit status %d, want 3", s.ExitStatus())
	}

	// Under requeue the others go on.
	var stderr strings.Builder
	hosts, err := o.Hosts(context.Background(), pool.LossRequeue, &stderr)
	if err != nil || len(hosts) != 1 || hosts[0].Name != ":" {
		t.Fatalf("under requeue: %+v, %v", hosts, err)
	}
	if !strings.Contains(stderr.String(), "futures: down2: probing the host: ssh: connect to host down2 port 22: Connection refused (exit status 255); going on without it (--worker-loss requeue)\n") {
		t.Errorf("stderr: %s", stderr.String())
	}
	o.Logins = []string{"down1"}
	if _, err := o.Hosts(context.Background(), pool.LossRequeue, &stderr); !errors.Is(err, pool.ErrBrokenProcessPool) {
		t.Errorf("under requeue, no host left: %v", err)
	}
}

// cachedSSH is a stand-in for ssh: host "up" answers the probe as a
// host with our binary cached would (its lines, then a worker's Hello),
// then waits for its stdin to end and writes "ended" to the log it
// returns; any other host cannot be reached.
func cachedSSH(t *testing.T) (ssh, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "ended.log")
	hello := `{"protocol":1,"futures":"devel","role":"worker","cpus":1}`
	script := fmt.Sprintf(`#!/bin/sh
case $1 in up) ;; *) echo "ssh: connect to host $1 port 22: Connection refused" >&2; exit 255;; esac
printf 'futures-probe Linux x86_64\nhome /home/u\nexec cache /home/u/.cache/futures/v-0/futures\n'
printf '\000\000\000\%03o\001%%s' '%s'
cat >/dev/null
echo ended >>%s
`, len(hello), hello, log)
	ssh = filepath.Join(dir, "ssh")
	if err := os.WriteFile(ssh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return ssh, log
}

// ended is how many of cachedSSH's workers have ended.
func ended(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(b), "ended\n")
}

func TestTheWorkerAPreparationLeftRunningEndsWithoutAPool(t *testing.T) {
	ssh, log := cachedSSH(t)
	o := RemoteOptions{Logins: []string{"1/up,down"}, SSH: ssh}

	// Under break, down ends the run before any pool: up's worker, which
	// the probe left running for the pool, has ended when Hosts returns.
	if _, err := o.Hosts(context.Background(), pool.LossBreak, nil); !errors.Is(err, pool.ErrBrokenProcessPool) {
		t.Fatalf("under break: %v", err)
	}
	if n := ended(t, log); n != 1 {
		t.Errorf("under break: %d workers ended, want 1", n)
	}

	// Under requeue, up's launcher holds its worker for the pool's first
	// Launch; a caller that makes no pool closes the launchers.
	var stderr strings.Builder
	hosts, err := o.Hosts(context.Background(), pool.LossRequeue, &stderr)
	if err != nil || len(hosts) != 1 || hosts[0].Name != "up" {
		t.Fatalf("under requeue: %+v, %v", hosts, err)
	}
	if n := ended(t, log); n != 1 {
		t.Errorf("under requeue: %d workers ended before the launchers were closed, want 1 (the first run's)", n)
	}
	closeLaunchers(hosts)
	if n := ended(t, log); n != 2 {
		t.Errorf("under requeue: %d workers ended after the launchers were closed, want 2", n)
	}
}

func TestParseWorkerLoss(t *testing.T) {
	for s, want := range map[string]pool.WorkerLoss{"": pool.LossBreak, "break": pool.LossBreak, "requeue": pool.LossRequeue} {
		if got, err := ParseWorkerLoss(s); err != nil || got != want {
			t.Errorf("%q: %v, %v", s, got, err)
		}
	}
	if _, err := ParseWorkerLoss("retry"); err == nil || err.Error() != `--worker-loss "retry": want break or requeue` {
		t.Errorf("retry: %v", err)
	}
}

func TestSetupSummary(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(SignalError{Signal: 2})
	if s := setupSummary(ctx, context.Canceled); s.ExitStatus() != 130 {
		t.Errorf("interrupted: exit status %d", s.ExitStatus())
	}
	if s := setupSummary(context.Background(), errors.New("joblog: no")); s.ExitStatus() != 2 {
		t.Errorf("a setup error: exit status %d", s.ExitStatus())
	}
}
