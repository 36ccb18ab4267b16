// Package service is the transport of the executor service (issue 16): where
// a service named NAME keeps its socket and its state, the lock that lets two
// clients race to start one service and start exactly one, a unix-socket
// listener that serves only its own user (SO_PEERCRED), the HTTP server over
// it and the client that reaches it.
//
// The protocol is HTTP/1.1 with JSON bodies over a unix socket, as Docker's
// Engine API and tailscaled's LocalAPI are, so that
//
//	curl --unix-socket "$XDG_RUNTIME_DIR/futures/default/service.sock" http://futures/v1/service
//
// works. There is no TCP listener. docs/service.md ("Transport") describes
// the paths, the permissions, the peer check and the endpoints.
package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultName is the service's name when neither an explicit name nor
// FUTURES_SERVICE gives one.
const DefaultName = "default"

// EnvName is the environment variable that names the service when no
// explicit name is given (`--service NAME` wins over it).
const EnvName = "FUTURES_SERVICE"

// File names inside a service's runtime directory.
const (
	socketFile = "service.sock"
	lockFile   = "start.lock"
)

// maxSocketPath is the size of sockaddr_un's sun_path on this system (108
// on Linux, 104 on the BSDs and macOS): a socket's path must be shorter,
// with its NUL.
const maxSocketPath = len(syscall.RawSockaddrUnix{}.Path)

// ErrBadName is wrapped by the error for a service name that cannot be a
// directory name of its own.
var ErrBadName = errors.New("bad service name")

// ErrUnsafePath is wrapped by the error for a directory that exists but is
// owned by another user or open to group or others, or is not a directory:
// the service refuses to keep its socket or state there.
var ErrUnsafePath = errors.New("unsafe path")

// Paths are where the service NAME lives. Resolve computes them; Ensure
// creates the directories.
type Paths struct {
	Name       string // the service's name, validated
	RuntimeDir string // $XDG_RUNTIME_DIR/futures/NAME, else /tmp/futures-UID/NAME
	StateDir   string // $XDG_STATE_HOME/futures/NAME, else ~/.local/state/futures/NAME
	Socket     string // RuntimeDir/service.sock, mode 0600
	Lock       string // RuntimeDir/start.lock, flocked by Acquire
}

// Name returns the service's name: explicit when it is not empty, else
// $FUTURES_SERVICE when set and not empty, else DefaultName. It does not
// validate the name; Resolve does.
func Name(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv(EnvName); env != "" {
		return env
	}
	return DefaultName
}

// ValidName returns nil when name can name a service: letters, digits and
// _ . - only, not empty, not "." or "..". The error names the name and
// wraps ErrBadName.
func ValidName(name string) error {
	switch name {
	case "":
		return fmt.Errorf("%w: the name is empty", ErrBadName)
	case ".", "..":
		return fmt.Errorf("%w %q: not a name", ErrBadName, name)
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '.', r == '-':
		default:
			return fmt.Errorf("%w %q: %q is not allowed (letters, digits, _ . - only)", ErrBadName, name, r)
		}
	}
	return nil
}

// Resolve returns the paths of the service named by Name(explicit) for the
// current user, from XDG_RUNTIME_DIR and XDG_STATE_HOME (each ignored unless
// absolute, as the XDG base directory spec says). It creates nothing.
func Resolve(explicit string) (Paths, error) {
	home, _ := os.UserHomeDir()
	return resolve(Name(explicit), os.Getenv, os.Getuid(), home)
}

func resolve(name string, getenv func(string) string, uid int, home string) (Paths, error) {
	if err := ValidName(name); err != nil {
		return Paths{}, err
	}
	var p Paths
	p.Name = name
	if dir := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		p.RuntimeDir = filepath.Join(dir, "futures", name)
	} else {
		// /tmp, not $TMPDIR: a job or a shell with another TMPDIR must
		// find the same service.
		p.RuntimeDir = filepath.Join("/tmp", "futures-"+strconv.Itoa(uid), name)
	}
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		p.StateDir = filepath.Join(dir, "futures", name)
	} else {
		if !filepath.IsAbs(home) {
			return Paths{}, fmt.Errorf("service %s: no state directory: XDG_STATE_HOME is not set and the home directory is unknown", name)
		}
		p.StateDir = filepath.Join(home, ".local", "state", "futures", name)
	}
	p.Socket = filepath.Join(p.RuntimeDir, socketFile)
	p.Lock = filepath.Join(p.RuntimeDir, lockFile)
	if len(p.Socket) >= maxSocketPath {
		return Paths{}, fmt.Errorf("service %s: socket path %s is %d bytes long, more than a unix socket takes (%d); set XDG_RUNTIME_DIR to a shorter directory", name, p.Socket, len(p.Socket), maxSocketPath-1)
	}
	return p, nil
}

// Ensure creates the runtime and state directories, each with its parent
// "futures" directory (or /tmp/futures-UID), mode 0700. A directory of
// ours that exists already must be a directory owned by this user with no
// group or other permissions: else Ensure refuses with an error that names
// it and wraps ErrUnsafePath. Directories above those (XDG_RUNTIME_DIR,
// ~/.local/state) are created 0700 when missing and not checked.
func (p Paths) Ensure() error {
	for _, dir := range []string{p.RuntimeDir, p.StateDir} {
		parent := filepath.Dir(dir)
		if err := os.MkdirAll(filepath.Dir(parent), 0o700); err != nil {
			return fmt.Errorf("service %s: %w", p.Name, err)
		}
		for _, d := range []string{parent, dir} {
			if err := ensureDir(d); err != nil {
				return fmt.Errorf("service %s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// ensureDir creates dir 0700, or checks the one that is there.
func ensureDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err == nil {
		// The umask may have taken bits away, never added any; set them
		// anyway so a umask of 0777 cannot leave us a directory we cannot use.
		return os.Chmod(dir, 0o700)
	}
	if !errors.Is(err, os.ErrExist) {
		return err
	}
	return checkDir(dir)
}

// checkDir refuses a path that is not a directory of ours closed to group
// and others. A symlink is refused too: in /tmp another user may plant one.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (%v)", ErrUnsafePath, dir, fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := int(st.Uid); uid != os.Getuid() {
			return fmt.Errorf("%w: %s is owned by uid %d, not by you (uid %d)", ErrUnsafePath, dir, uid, os.Getuid())
		}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, open to group or others; want 0700 (chmod 700 %s)", ErrUnsafePath, dir, perm, dir)
	}
	return nil
}
