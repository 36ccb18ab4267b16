package service

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"syscall"
)

// Listen makes the service's socket at p.Socket, mode 0600, in a runtime
// directory that Ensure has checked, and returns a listener that serves
// only this process's user: each connection's peer uid is read from the
// kernel (SO_PEERCRED on Linux) and a connection from any other uid is
// closed at once, logged to logger (nil: not logged), and never returned
// by Accept. The file modes keep other users out already; the peer check
// holds even when they are loosened.
//
// When the socket path is taken, by a running service or a stale socket,
// Listen fails with an error that names it; a caller that starts services
// holds the start lock and calls CheckSocket first. Closing the listener
// removes the socket file.
func Listen(p Paths, logger *log.Logger) (net.Listener, error) {
	if !peerCheckSupported {
		return nil, fmt.Errorf("service %s: %w", p.Name, errNoPeerCheck)
	}
	if err := p.Ensure(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", p.Socket)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("service %s: socket %s is taken: %w, or its socket is stale (futures start removes a stale one)", p.Name, p.Socket, ErrRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	// The directory is 0700 already, so the moment between bind and chmod
	// exposes nothing.
	if err := os.Chmod(p.Socket, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	return PeerListener(ln, os.Getuid(), logger), nil
}

// PeerListener wraps a unix-socket listener so that Accept returns only
// connections whose peer runs as uid; others are closed at once and
// logged to logger (nil: not logged). Listen uses it; it is exported for
// a listener made another way (a socket handed over by systemd).
func PeerListener(ln net.Listener, uid int, logger *log.Logger) net.Listener {
	return &peerListener{Listener: ln, uid: uid, log: logger}
}

type peerListener struct {
	net.Listener
	uid int
	log *log.Logger
}

// Accept waits for the next connection from the listener's own user.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, pid, err := peerCred(c)
		switch {
		case err != nil:
			l.logf("refused a connection: cannot read its peer's credentials: %v", err)
		case uid != l.uid:
			l.logf("refused a connection from uid %d (pid %d): this service serves uid %d only", uid, pid, l.uid)
		default:
			return c, nil
		}
		c.Close()
	}
}

func (l *peerListener) logf(format string, args ...any) {
	if l.log != nil {
		l.log.Printf(format, args...)
	}
}
