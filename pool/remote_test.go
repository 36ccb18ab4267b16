package pool

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/pool/job"
)

func TestRemoteLaunchersCommandLines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		l     *RemoteLauncher
		argv  []string
		label string
	}{
		{"ssh with its defaults", SSHLauncher(nil, "h1", "/home/ann/.cache/futures/v1-0123/futures"),
			[]string{"ssh", "h1", "exec /home/ann/.cache/futures/v1-0123/futures worker"}, "ssh h1"},
		{"ssh with options and a path that needs quotes", SSHLauncher([]string{"ssh", "-p", "2222"}, "ann@h2", "/opt/my futures/it's"),
			[]string{"ssh", "-p", "2222", "ann@h2", `exec '/opt/my futures/it'\''s' worker`}, "ssh ann@h2"},
		{"ssh with a path in the remote home", SSHLauncher(nil, "h1", "~/bin/futures"),
			[]string{"ssh", "h1", "exec ~/bin/futures worker"}, "ssh h1"},
		{"srun", SrunLauncher(nil, "/shared/futures"),
			[]string{"srun", "--exclusive", "-N1", "-n1", "--unbuffered", "--quiet", "/shared/futures", "worker"}, "srun"},
		{"srun with more arguments", SrunLauncher([]string{"--mem=1G", "-p", "debug"}, "futures"),
			[]string{"srun", "--exclusive", "-N1", "-n1", "--unbuffered", "--quiet", "--mem=1G", "-p", "debug", "futures", "worker"}, "srun"},
		{"kubectl", CommandLauncher([]string{"/usr/bin/kubectl", "exec", "-i", "pod-0", "--"}, "futures"),
			[]string{"/usr/bin/kubectl", "exec", "-i", "pod-0", "--", "futures", "worker"}, "kubectl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Equal(tc.l.Command, tc.argv) {
				t.Errorf("argv %q, want %q", tc.l.Command, tc.argv)
			}
			if tc.l.String() != tc.label {
				t.Errorf("label %q, want %q", tc.l.String(), tc.label)
			}
		})
	}
}

func TestARemoteLauncherRunsAPoolsWorkers(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ssh, _ := fakeSSH(t)
	testWorkerOnHosts(t)
	l := SSHLauncher(ssh, "h1", exe)
	p := NewProcessPool[string](ProcessOptions{Hosts: []Host{{Name: "h1", Launcher: l, Workers: 2}}})
	var fs []interface {
		Result(context.Context) (string, error)
	}
	for range 4 {
		f, err := p.Submit(context.Background(), func(ctx context.Context) (string, error) {
			var out strings.Builder
			if _, err := RunJob(ctx, job.Spec{Line: "echo hi", Shell: true}, &out, nil, nil); err != nil {
				return "", err
			}
			return WorkerHost(ctx) + " " + out.String(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range fs {
		got, err := f.Result(ctx)
		if err != nil || got != "h1 hi\n" {
			t.Errorf("got %q, %v", got, err)
		}
	}
	if err := p.Shutdown(ctx, ShutdownOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
}

func TestARemoteProcessNamesItsHostAndLeavesJobsToTheWorker(t *testing.T) {
	l := &RemoteLauncher{Command: []string{"/bin/sh", "-c", "echo oops >&2; cat >/dev/null; exit 3"}, Label: "ssh h9"}
	pr, err := l.Launch(context.Background(), "worker_0")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ssh h9 pid [0-9]+$`).MatchString(pr.String()) {
		t.Errorf("String() = %q", pr.String())
	}
	pr.KillJob(os.Getpid()) // must not touch anything here
	_ = pr.Stdin().Close()
	err = pr.Wait()
	if err == nil || err.Error() != "exit status 3; its stderr: oops" {
		t.Errorf("Wait: %v", err)
	}

	pr, err = l.Launch(context.Background(), "worker_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := pr.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait after Kill: %v", err)
	}

	if _, err := (&RemoteLauncher{Command: []string{"/no/such/ssh"}}).Launch(context.Background(), "w"); err == nil ||
		!strings.HasPrefix(err.Error(), "ssh: starting /no/such/ssh: ") {
		t.Errorf("a launcher that cannot start: %v", err)
	}
}
