package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPaths resolves the service name under a fresh temporary directory
// standing in for XDG_RUNTIME_DIR and XDG_STATE_HOME.
func testPaths(t *testing.T, name string) Paths {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"XDG_RUNTIME_DIR": filepath.Join(dir, "run"),
		"XDG_STATE_HOME":  filepath.Join(dir, "state"),
	}
	p, err := resolve(name, func(k string) string { return env[k] }, os.Getuid(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"default", true},
		{"ci-build_2.x", true},
		{"A", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../x", false},
		{"with space", false},
		{"tab\t", false},
		{"é", false},
		{"a:b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidName(tc.name)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrBadName) {
					t.Errorf("error %v does not wrap ErrBadName", err)
				}
				if tc.name != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.name)) {
					t.Errorf("error %q does not name %q", err, tc.name)
				}
			}
		})
	}
}

func TestResolveBadNameIsAnError(t *testing.T) {
	t.Setenv(EnvName, "")
	_, err := Resolve("no/slashes")
	if !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), `"no/slashes"`) {
		t.Fatalf("Resolve(no/slashes) = %v, want ErrBadName naming it", err)
	}
	t.Setenv(EnvName, "..")
	if _, err := Resolve(""); !errors.Is(err, ErrBadName) {
		t.Fatalf("FUTURES_SERVICE=.. : Resolve = %v, want ErrBadName", err)
	}
}

func TestResolvePaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		desc           string
		env            map[string]string
		runtime, state string
	}{
		{"XDG dirs are used when set",
			map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/s"},
			"/run/user/1000/futures/ci", "/s/futures/ci"},
		{"without them, /tmp/futures-UID and ~/.local/state",
			nil, "/tmp/futures-1000/ci", "/home/u/.local/state/futures/ci"},
		{"relative XDG values are ignored",
			map[string]string{"XDG_RUNTIME_DIR": "run", "XDG_STATE_HOME": "state"},
			"/tmp/futures-1000/ci", "/home/u/.local/state/futures/ci"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := resolve("ci", env(tc.env), 1000, "/home/u")
			if err != nil {
				t.Fatal(err)
			}
			if p.RuntimeDir != tc.runtime || p.StateDir != tc.state || p.Socket != tc.runtime+"/service.sock" || p.Lock != tc.runtime+"/start.lock" {
				t.Fatalf("got %+v, want runtime %s, state %s", p, tc.runtime, tc.state)
			}
		})
	}
}

func TestNameFromFlagEnvDefault(t *testing.T) {
	t.Setenv(EnvName, "")
	if got := Name(""); got != DefaultName {
		t.Errorf("Name(\"\") with no env = %q, want %q", got, DefaultName)
	}
	t.Setenv(EnvName, "fromenv")
	if got := Name(""); got != "fromenv" {
		t.Errorf("Name(\"\") with FUTURES_SERVICE=fromenv = %q", got)
	}
	if got := Name("flag"); got != "flag" {
		t.Errorf("Name(flag) = %q, want the explicit name to win", got)
	}
}

func TestResolveRefusesTooLongSocketPath(t *testing.T) {
	long := "/" + strings.Repeat("d", 120)
	_, err := resolve("x", func(k string) string { return long }, 0, "/h")
	if err == nil || !strings.Contains(err.Error(), "XDG_RUNTIME_DIR") {
		t.Fatalf("got %v, want an error about the socket path's length", err)
	}
}

func TestEnsureCreatesPrivateDirs(t *testing.T) {
	p := testPaths(t, "perm")
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.RuntimeDir, filepath.Dir(p.RuntimeDir), p.StateDir, filepath.Dir(p.StateDir)} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s: mode %04o, want 0700", d, perm)
		}
	}
	// A second Ensure accepts what the first made.
	if err := p.Ensure(); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
}

func TestEnsureRefusesUnsafeDirs(t *testing.T) {
	t.Run("open to others", func(t *testing.T) {
		p := testPaths(t, "open")
		if err := p.Ensure(); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p.RuntimeDir, 0o755)
		err := p.Ensure()
		if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), p.RuntimeDir) || !strings.Contains(err.Error(), "0755") {
			t.Fatalf("Ensure = %v, want ErrUnsafePath naming %s and its mode", err, p.RuntimeDir)
		}
		if _, err := Acquire(p); !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("Acquire = %v, want ErrUnsafePath", err)
		}
		if _, err := Listen(p, nil); !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("Listen = %v, want ErrUnsafePath", err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		p := testPaths(t, "file")
		os.MkdirAll(filepath.Dir(p.StateDir), 0o700)
		os.WriteFile(p.StateDir, nil, 0o600)
		if err := p.Ensure(); !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), p.StateDir) {
			t.Fatalf("Ensure = %v, want ErrUnsafePath naming %s", err, p.StateDir)
		}
	})
	t.Run("a symlink", func(t *testing.T) {
		p := testPaths(t, "link")
		os.MkdirAll(filepath.Dir(p.RuntimeDir), 0o700)
		os.Symlink(t.TempDir(), p.RuntimeDir)
		if err := p.Ensure(); !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("Ensure = %v, want ErrUnsafePath", err)
		}
	})
	t.Run("owned by another user", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("needs root to chown a directory to another user")
		}
		p := testPaths(t, "owned")
		if err := p.Ensure(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p.RuntimeDir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		err := p.Ensure()
		if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), p.RuntimeDir) || !strings.Contains(err.Error(), "uid 65534") {
			t.Fatalf("Ensure = %v, want ErrUnsafePath naming %s and its owner", err, p.RuntimeDir)
		}
	})
}
