package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	vcs := func(rev, tm, modified string) []debug.BuildSetting {
		s := []debug.BuildSetting{{Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "arm64"}, {Key: "vcs", Value: "git"}}
		if rev != "" {
			s = append(s, debug.BuildSetting{Key: "vcs.revision", Value: rev})
		}
		if tm != "" {
			s = append(s, debug.BuildSetting{Key: "vcs.time", Value: tm})
		}
		if modified != "" {
			s = append(s, debug.BuildSetting{Key: "vcs.modified", Value: modified})
		}
		return s
	}
	const rev = "3f9ff335c17f8bd21f87fc841a93d563507a1c54"
	const tm = "2026-11-25T04:33:42Z"
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		release string
		want    string
	}{
		{"go install @version: the module version, no VCS",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}},
			"", "v1.2.0 go1.26.8 linux/amd64"},
		{"go build in a clone: the pseudo-version, the revision and its time",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125043342-3f9ff335c17f"}, Settings: vcs(rev, tm, "false")},
			"", "v0.0.0-20261125043342-3f9ff335c17f (3f9ff335c17f " + tm + ") go1.26.8 darwin/arm64"},
		{"uncommitted changes: +dirty",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125043342-3f9ff335c17f+dirty"}, Settings: vcs(rev, tm, "true")},
			"", "v0.0.0-20261125043342-3f9ff335c17f+dirty (3f9ff335c17f+dirty " + tm + ") go1.26.8 darwin/arm64"},
		{"no module version: devel",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "", "")},
			"", "devel (3f9ff335c17f) go1.26.8 darwin/arm64"},
		{"an empty module version is devel too",
			&debug.BuildInfo{GoVersion: "go1.25.0", Settings: []debug.BuildSetting{{Key: "GOOS", Value: "freebsd"}, {Key: "GOARCH", Value: "amd64"}}},
			"", "devel go1.25.0 freebsd/amd64"},
		{"a release tag from -ldflags names the build",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125043342-3f9ff335c17f"}, Settings: vcs(rev, tm, "false")},
			"v1.3.0", "v1.3.0 (3f9ff335c17f " + tm + ") go1.26.8 darwin/arm64"},
		{"a short revision is kept whole",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs("abc123", tm, "true")},
			"", "devel (abc123+dirty " + tm + ") go1.26.8 darwin/arm64"},
		{"no build info: devel, this Go and this platform",
			nil, "", "devel " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.bi, tc.release); got != tc.want {
				t.Errorf("versionLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBuildRecordsTheRevision builds the binary from a clone of the git
// tree, as make build does (-buildvcs=true, whatever GOFLAGS says), and
// checks that `futures version` and `futures --version` name the
// revision, with +dirty once a file changes. A clone, because go build
// records no VCS information in a git worktree (its .git is a file).
func TestBuildRecordsTheRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	// go test puts its own GOROOT/bin first in PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	run := func(dir, name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GOFLAGS=-buildvcs=false")
		out, err := c.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git tree")
	}
	clone := filepath.Join(t.TempDir(), "src")
	run("", git, "clone", "-q", "--shared", strings.TrimSpace(string(top)), clone)
	rev := run(clone, git, "rev-parse", "HEAD")[:12]
	bin := filepath.Join(t.TempDir(), "futures")
	build := func() {
		run(clone, goBin, "build", "-buildvcs=true", "-o", bin, ".")
	}

	build()
	v := run("", bin, "version")
	if !strings.Contains(v, "("+rev+" ") || strings.Contains(v, "dirty") {
		t.Errorf("futures version: %q, want it to name revision %s, clean", v, rev)
	}
	if !strings.HasPrefix(v, "futures ") || !strings.HasSuffix(v, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("futures version: %q, want futures VERSION (REV TIME) GOVERSION OS/ARCH", v)
	}
	if vv := run("", bin, "--version"); vv != v {
		t.Errorf("futures --version: %q, want what futures version says: %q", vv, v)
	}

	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build()
	if v := run("", bin, "version"); !strings.Contains(v, "("+rev+"+dirty ") {
		t.Errorf("futures version after a change: %q, want revision %s+dirty", v, rev)
	}
}

// TestALinkedReleaseTagNamesTheBuildAndItsWorkers builds the binary as make
// build does at a release tag (-ldflags -X …wire.Release=TAG) and checks
// that `futures version` names the tag and that a `futures worker` says
// the same version in its Hello, the one a runner compares.
func TestALinkedReleaseTagNamesTheBuildAndItsWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	bin := filepath.Join(t.TempDir(), "futures")
	b := exec.Command(goBin, "build", "-ldflags", "-X github.com/futures-cli/futures/pool/internal/wire.Release=v9.8.7", "-o", bin, ".")
	b.Dir = ".."
	if out, err := b.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	v, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "futures v9.8.7 ") {
		t.Errorf("futures version: %q (%v), want futures v9.8.7 …", v, err)
	}
	// The worker speaks first; with its stdin at EOF it then exits.
	w := exec.Command(bin, "worker")
	w.Stdin = strings.NewReader("")
	hello, _ := w.Output()
	if !strings.Contains(string(hello), `"futures":"v9.8.7"`) {
		t.Errorf("futures worker's Hello: %q, want it to name futures v9.8.7", hello)
	}
}
