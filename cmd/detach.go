package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/runner"
	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/shell"
)

// serviceFlags are --detach and --service of submit, map and wait.
type serviceFlags struct {
	detach  bool
	service string
}

func (s *serviceFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&s.detach, "detach", false, "submit to the executor service, print one id (%N) per future and return at once (starts the service when none runs)")
	fs.StringVar(&s.service, "service", "", "the executor service's `NAME` (default $FUTURES_SERVICE, else \"default\")")
}

// detachBatch is how many futures one submit request carries at most, and
// detachBatchBytes about how many bytes of command lines, arguments and
// directories: ids are printed after each batch is committed. The service
// refuses a request body over 4 MiB; JSON escapes a byte in up to six.
const (
	detachBatch      = 1000
	detachBatchBytes = 512 << 10
)

// submitDetached submits the jobs of src (expanded as a run would: the
// templates, the inputs) to the service, one future each, and prints
// their ids as each batch is committed. argv, when not nil, is one
// command given after --, submitted as it is.
func submitDetached(f *factory, c *commonFlags, opt runner.Options, src input.Source, argv []string) error {
	p, err := service.Resolve(c.svc.service)
	if err != nil {
		return usageError{err}
	}
	// One command after -- is one request, over in milliseconds: it keeps
	// the signals' default actions (Ctrl-C ends it with status 130, a
	// closed stdout with 141, quietly), which cost nothing, where
	// os/signal's handler (its goroutine, a thread, and its stop) cost
	// about a tenth of such a call. Lines from the input may take long:
	// a signal stops them between batches, each printed once committed.
	ctx, stop := context.Background(), func() {}
	if argv == nil {
		ctx, _, stop = signals(context.Background())
	}
	defer stop()
	cl := service.Dial(p)
	defer cl.Close()
	dir, _ := os.Getwd()
	req := service.SubmitRequest{Client: strconv.Itoa(os.Getpid()), Environ: os.Environ()}
	out := bufio.NewWriter(f.stdout)
	since := time.Now()
	var last int64 // the last id printed
	size := 0      // the bytes of the batch's futures
	flush := func() error {
		if len(req.Futures) == 0 {
			return nil
		}
		// The fast path: a running service takes the batch at once, one
		// request. Only when nobody listens (the dial failed, so nothing
		// was sent) is the service started, under the start lock, and the
		// batch sent again.
		pid := service.ServicePID(p) // the service this request reaches
		ids, err := cl.Submit(ctx, req)
		for try := 0; err != nil; try++ {
			var refused *service.Error
			if errors.As(err, &refused) {
				return err // answered: nothing committed
			}
			if !errors.Is(err, service.ErrNotRunning) {
				// Sent, but no answer came: the service died as it took
				// the batch. When it committed nothing, a new one takes it.
				err = lostSubmit(ctx, p, pid, req.Client, since, last, err)
				if !errors.Is(err, errNothingCommitted) || try > 0 {
					return err
				}
			}
			if try > 0 {
				return err
			}
			info, err2 := ensureService(ctx, f, p)
			if err2 != nil {
				return err2
			}
			pid = info.PID
			ids, err = cl.Submit(ctx, req)
		}
		req.Futures, size = req.Futures[:0], 0
		for _, id := range ids {
			fmt.Fprintf(out, "%%%d\n", id)
			last = id
		}
		if err := out.Flush(); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return errClosedStdout
			}
			return err
		}
		return nil
	}
	add := func(cmd shell.Command) error {
		fs := service.FutureSpec{Line: cmd.Line, Dir: dir}
		if !cmd.Shell {
			fs.Argv = cmd.Argv
		}
		req.Futures = append(req.Futures, fs)
		size += len(fs.Line) + len(fs.Dir)
		for _, a := range fs.Argv {
			size += len(a)
		}
		if len(req.Futures) >= detachBatch || size >= detachBatchBytes {
			return flush()
		}
		return nil
	}
	if argv != nil {
		err = add(shell.Command{Line: service.ShellLine(argv), Argv: argv})
	} else {
		opt.Stdout, opt.Stderr = f.stdout, f.stderr
		err = runner.Expand(ctx, opt, src, func(_ int, cmd shell.Command) error { return add(cmd) })
	}
	bad := errors.Is(err, runner.ErrBadJobs)
	if err == nil || bad {
		err = flush()
	}
	switch {
	case errors.Is(err, errClosedStdout):
		// Stopped quietly, as a run is (README, "Exit status"): the
		// futures whose ids were written run on.
		return exitStatus(128 + int(syscall.SIGPIPE))
	case err != nil && !bad:
		fmt.Fprintf(f.stderr, "futures: %v\n", err)
		return exitStatus(1)
	case bad:
		return exitStatus(1) // each bad line was named; the others are submitted
	}
	return nil
}

// errClosedStdout is submitDetached's error when the reader of its
// standard output has gone.
var errClosedStdout = errors.New("standard output closed")

// errNothingCommitted is lostSubmit's error when the dead service had
// committed none of the batch: it can be sent again, to a new service.
var errNothingCommitted = errors.New("none of its futures was committed")

// lostSubmit is the error of a submit whose connection broke before the
// service answered (err): it finds out, from the store, whether the
// service died and which futures of this client it had committed (now
// broken: final, never to run), and says so.
func lostSubmit(ctx context.Context, p service.Paths, pid int, client string, since time.Time, last int64, err error) error {
	s, serr := service.OpenSession(p)
	if serr != nil {
		return fmt.Errorf("%w; and reading its store: %v", err, serr)
	}
	defer s.Close()
	ids, alive, serr := s.LostSubmit(ctx, pid, client, since, last, 5*time.Second)
	switch {
	case serr != nil:
		return fmt.Errorf("%w; and reading its store: %v", err, serr)
	case alive:
		return fmt.Errorf("%w: the service still runs, and its futures of this submit may have been committed: see futures status", err)
	case len(ids) == 0:
		return fmt.Errorf("service %s died (killed or crashed) while it took this submit: %w; the next submit starts a new service", p.Name, errNothingCommitted)
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = "%" + strconv.FormatInt(id, 10)
	}
	list, status := strings.Join(names, " "), "futures status "+strings.Join(names, " ")
	if len(names) > 10 { // a batch holds up to detachBatch
		list = fmt.Sprintf("%d futures (%s … %s)", len(names), names[0], names[len(names)-1])
		status = "futures status"
	}
	return fmt.Errorf("service %s died (killed or crashed) while it took this submit, after it committed %s: they are broken and will not run (%s); the next submit starts a new service", p.Name, list, status)
}

// check refuses what does not go together: --service and --detach
// with --dry-run, --detach with --report.
func (s *serviceFlags) check(c *commonFlags) error {
	if s.detach && c.dryRun {
		return usagef("--detach and --dry-run do not go together: a dry run submits nothing")
	}
	if s.detach && c.report.path != "" {
		return usagef("--detach and --report do not go together: a detached submit runs nothing here (futures report --service NAME draws the service's futures)")
	}
	return nil
}

// attachedTo returns the service a run attaches to: --service, else
// $FUTURES_SERVICE; "" when the run is not attached (or is detached).
func (s *serviceFlags) attachedTo(f *factory) string {
	if s.detach {
		return ""
	}
	if s.service != "" {
		return s.service
	}
	return f.getenv("FUTURES_SERVICE")
}

// attach attaches the run of opt to the service named (started when none
// runs): each of its jobs then holds one of the service's slots while it
// runs, and without -j it runs as many at once as the service does.
// done ends the attachment.
func attach(ctx context.Context, f *factory, c *commonFlags, name string, opt *runner.Options) (done func(), err error) {
	p, err := service.Resolve(name)
	if err != nil {
		return nil, usageError{err}
	}
	if _, err := ensureService(ctx, f, p); err != nil {
		return nil, err
	}
	a, err := service.AttachRun(ctx, p, strconv.Itoa(os.Getpid()))
	if err != nil {
		return nil, err
	}
	opt.Slots = a
	if c.jobs == "" {
		opt.Workers = a.Workers()
	}
	return a.Close, nil
}

// countIDs counts the arguments of the form %N.
func countIDs(args []string) int {
	n := 0
	for _, a := range args {
		if service.IsID(a) {
			n++
		}
	}
	return n
}
