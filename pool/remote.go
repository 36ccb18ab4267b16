package pool

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/futures-cli/futures/pool/pgroup"
	"github.com/futures-cli/futures/pool/shquote"
)

// RemoteLauncher starts workers through a command that runs `futures
// worker` somewhere else and passes its stdin and stdout through: `ssh HOST
// 'exec futures worker'`, `srun … futures worker`, `kubectl exec -i POD --
// futures worker`. Build one with [SSHLauncher], [SrunLauncher] or
// [CommandLauncher].
//
// Each command runs in a session of its own, without a controlling
// terminal: Ctrl-C reaches the runner, not the command, and a command that
// would ask for a password fails at once instead of waiting for one (ssh
// logins must work without a prompt: keys, an agent). The command gets
// SIGTERM when the process that started it dies (Pdeathsig), even by
// SIGKILL: the ssh or srun client then ends its session, and the worker on
// the other side, whose stdin closes, KILLs its running job and exits.
//
// The worker's jobs run on another machine, so the Process's KillJob does
// nothing: there, a worker that loses its runner takes its jobs down
// itself.
//
// A RemoteLauncher may hold one worker that runs already ([Adopt]: the one
// that answered [PrepareSSH], in the ssh session it opened): its next
// Launch hands that one out instead of running Command, so that the first
// worker on a host costs no session of its own. Close ends it if no Launch
// took it. A RemoteLauncher must not be copied once used.
type RemoteLauncher struct {
	// Command is the argv that starts the worker, the worker command
	// included (its last words are `FUTURES worker`, or for ssh, a remote
	// shell command that runs it). It must not be empty.
	Command []string
	// Label names where the workers run in messages: "ssh h1", "srun",
	// "kubectl". "" means the base name of Command[0].
	Label string
	// Env is the command's environment; nil means this process's.
	Env []string

	mu      sync.Mutex
	adopted Process // a worker for the next Launch, or nil; guarded by mu
}

// SSHLauncher is a RemoteLauncher that runs `SSH... LOGIN 'exec FUTURES
// worker'`: ssh is the ssh command and its options (nil means "ssh"),
// login the [user@]host ssh takes, futures the path of the futures binary
// on that host (see [PrepareSSH]) or a name on its PATH. ssh hands its
// command to the remote login shell, so the path is quoted for it (a
// leading ~/ stays unquoted, for the remote shell to expand).
func SSHLauncher(ssh []string, login, futures string) *RemoteLauncher {
	return &RemoteLauncher{
		Command: sshCommand(ssh, login, "exec "+remotePath(futures)+" worker"),
		Label:   "ssh " + login,
	}
}

// SrunLauncher is a RemoteLauncher that starts each worker as a Slurm job
// step of the allocation it runs in: `srun --exclusive -N1 -n1
// --unbuffered --quiet SRUNARGS... FUTURES worker`, no shell. Slurm picks
// the node; futures is the path of the futures binary there (Slurm nodes
// usually share a file system: this program's own path).
func SrunLauncher(srunArgs []string, futures string) *RemoteLauncher {
	argv := []string{"srun", "--exclusive", "-N1", "-n1", "--unbuffered", "--quiet"}
	argv = append(argv, srunArgs...)
	return &RemoteLauncher{Command: append(argv, futures, "worker"), Label: "srun"}
}

// CommandLauncher is a RemoteLauncher that runs command with `FUTURES
// worker` appended, no shell: `kubectl exec -i POD -- futures worker`,
// `docker exec -i CTR futures worker`. The command must pass its stdin and
// stdout through untouched (no terminal: kubectl and docker without -t).
func CommandLauncher(command []string, futures string) *RemoteLauncher {
	argv := append(append([]string(nil), command...), futures, "worker")
	return &RemoteLauncher{Command: argv}
}

// Launch implements Launcher: it starts the command and returns once it
// runs (not once the worker on the other side does: the pool's handshake
// waits for that).
func (l *RemoteLauncher) Launch(ctx context.Context, name string) (Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	p := l.adopted
	l.adopted = nil
	l.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if len(l.Command) == 0 {
		return nil, errors.New("pool: RemoteLauncher with no Command")
	}
	cmd := remoteCmd(l.Command, l.Env)
	rp := &cmdProcess{cmd: cmd, label: l.label(), remote: true, stderr: new(headBuffer)}
	cmd.Stderr = rp.stderr
	var err error
	if rp.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if rp.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: starting %s: %w", rp.label, l.Command[0], err)
	}
	return rp, nil
}

// Adopt gives l a worker that runs already, reached the way Command reaches
// one (a Process of [RemoteFutures].Worker), and that has said nothing but
// its Hello, still to be read: l's next Launch returns it instead of
// starting another. l owns it from now on (see Close). A worker that l
// held already is ended first.
func (l *RemoteLauncher) Adopt(p Process) {
	l.mu.Lock()
	old := l.adopted
	l.adopted = p
	l.mu.Unlock()
	if old != nil {
		_ = stopProcess(old)
	}
}

// Close ends the worker given to Adopt that no Launch took, if there is
// one: it closes its stdin, which makes the worker exit, and waits for it
// (killing it after 5 s). It returns how that worker ended (nil for a clean
// exit). l can still Launch afterwards. A [ProcessPool] closes the
// Launchers of its hosts that have a Close method when Shutdown with Wait
// returns.
func (l *RemoteLauncher) Close() error {
	l.mu.Lock()
	p := l.adopted
	l.adopted = nil
	l.mu.Unlock()
	if p == nil {
		return nil
	}
	return stopProcess(p)
}

func (l *RemoteLauncher) label() string {
	if l.Label != "" {
		return l.Label
	}
	return filepath.Base(l.Command[0])
}

// String describes the launcher: its label.
func (l *RemoteLauncher) String() string { return l.label() }

// remoteCmd is the exec.Cmd of a command that reaches another machine: a
// session of its own (no terminal, no Ctrl-C from ours), SIGTERM when we
// die.
func remoteCmd(argv, env []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = pgroup.SessionAttr(syscall.SIGTERM)
	// An ssh whose ControlPersist master keeps our stderr open must not
	// hold Wait up.
	cmd.WaitDelay = time.Second
	return cmd
}

// sshCommand is the argv that runs remote (a command line for the remote
// login shell) on login through ssh.
func sshCommand(ssh []string, login, remote string) []string {
	if len(ssh) == 0 {
		ssh = []string{"ssh"}
	}
	argv := append([]string(nil), ssh...)
	return append(argv, login, remote)
}

// remotePath quotes a path for the remote shell; a leading ~/ stays
// outside the quotes, for that shell to expand.
func remotePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok && rest != "" {
		return "~/" + shquote.Quote(rest)
	}
	return shquote.Quote(p)
}
