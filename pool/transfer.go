package pool

// A job's files (GNU parallel's --transferfile, --return, --cleanup),
// through the worker protocol rather than rsync: the frames are described
// in package pool/internal/wire. This file holds both ends: the runner's
// (openFiles, then runnerFiles.send before the job and runnerFiles.frame
// while it runs, from proc.run and proc.read) and the worker's
// (server.receiveFiles from its reader, server.runJob around the job).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/futures-cli/futures/pool/internal/wire"
	"github.com/futures-cli/futures/pool/job"
)

// ErrPathEscapes is wrapped by the error of WorkerPath for a name whose
// relative part climbs out of the worker's directory.
var ErrPathEscapes = errors.New("the path leaves the worker's directory (..)")

// WorkerPath is where a file named name in a job's Transfer or Return list
// is on the worker, by GNU parallel's rules for --transferfile: an
// absolute name stays as it is; a relative one is relative to the
// worker's directory (the job's Dir, else the one its initializer left,
// else its own); and a name holding /./ is relative from there on,
// whatever comes before (/home/u/./data/x and tmp/./data/x are both
// data/x). The relative part may not climb out of the worker's directory:
// ../x and a/./../x are errors wrapping ErrPathEscapes. The result is
// cleaned (a/b/../c is a/c). On the runner's side, the same name is the
// file itself, relative to the runner's working directory, /./ being a
// mere /.
func WorkerPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty file name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%q: a file name cannot hold a NUL byte", name)
	}
	rel := name
	if i := strings.Index(name, "/./"); i >= 0 {
		rel = strings.TrimLeft(name[i+3:], "/")
	} else if filepath.IsAbs(name) {
		return filepath.Clean(name), nil
	}
	rel = filepath.Clean(rel)
	switch {
	case rel == ".":
		return "", fmt.Errorf("%s: names a directory, not a file", name)
	case rel == "..", strings.HasPrefix(rel, "../"):
		return "", fmt.Errorf("%s: %w", name, ErrPathEscapes)
	}
	return rel, nil
}

// fileReceiver takes the frames of one job's files in one direction and
// places each file: written to a temporary name in its directory (made as
// needed), renamed into place at its end. A file it cannot place is an
// error of that file (errs), and its bytes are drained; a frame out of
// place is a protocol error.
type fileReceiver struct {
	id     uint64
	flag   string                            // "--transferfile" or "--return", for errors
	names  []string                          // the job's list
	dest   func(name string) (string, error) // where a name lands
	inStep bool                              // indexes must be 0, 1, 2…; else only increasing

	next  int       // the least index the next header may have
	cur   *incoming // the file under way, or nil
	bytes int64     // bytes of the files placed
	errs  []error   // files that could not be placed, or were given up
	ended bool      // a file was given up by its sender: no more follow (runner → worker)

	placed []string // files renamed into place
	dirs   []string // directories made for them, outermost first
}

// incoming is a file under way.
type incoming struct {
	hdr  wire.FileHeader
	dest string
	tmp  *os.File // nil when it cannot be placed: its bytes are drained
	n    int64
}

// frame takes one frame of type FileHeader, FileData or FileEnd.
func (r *fileReceiver) frame(typ wire.FrameType, p []byte) error {
	switch typ {
	case wire.FrameFileHeader:
		var h wire.FileHeader
		if err := wire.Decode(typ, p, &h); err != nil {
			return err
		}
		switch {
		case r.cur != nil:
			return wire.Errorf("a FileHeader frame while file %d of job %d is under way", r.cur.hdr.Index, r.id)
		case h.ID != r.id:
			return wire.Errorf("a FileHeader frame of job %d during job %d", h.ID, r.id)
		case h.Index < r.next || h.Index >= len(r.names) || r.inStep && h.Index != r.next:
			return wire.Errorf("a FileHeader frame for file %d of job %d, which is not expected", h.Index, r.id)
		case h.Path != r.names[h.Index]:
			return wire.Errorf("file %d of job %d is %q, not %q", h.Index, r.id, h.Path, r.names[h.Index])
		}
		r.next = h.Index + 1
		r.cur = &incoming{hdr: h}
		r.open(r.cur)
	case wire.FrameFileData:
		if r.cur == nil {
			return wire.Errorf("a FileData frame with no file under way in job %d", r.id)
		}
		in := r.cur
		in.n += int64(len(p))
		if in.tmp != nil {
			if _, err := in.tmp.Write(p); err != nil {
				r.fail(in, fmt.Errorf("writing %s: %w", in.dest, err))
			}
		}
	case wire.FrameFileEnd:
		var e wire.FileEnd
		if err := wire.Decode(typ, p, &e); err != nil {
			return err
		}
		in := r.cur
		switch {
		case in == nil:
			return wire.Errorf("a FileEnd frame with no file under way in job %d", r.id)
		case e.ID != r.id || e.Index != in.hdr.Index:
			return wire.Errorf("a FileEnd frame for file %d of job %d while file %d of job %d is under way", e.Index, e.ID, in.hdr.Index, r.id)
		case e.Size != in.n:
			return wire.Errorf("file %d of job %d: the end says %d bytes, %d came", e.Index, r.id, e.Size, in.n)
		}
		r.cur = nil
		if e.Error != "" {
			r.ended = true
			r.fail(in, fmt.Errorf("the sender gave it up: %s", e.Error))
			return nil
		}
		r.place(in)
	default:
		return wire.Errorf("unexpected %v frame among the files of job %d", typ, r.id)
	}
	return nil
}

// open makes the temporary file of in, or records why it cannot.
func (r *fileReceiver) open(in *incoming) {
	dest, err := r.dest(in.hdr.Path)
	if err != nil {
		r.fail(in, err)
		return
	}
	in.dest = dest
	made, err := mkdirs(filepath.Dir(dest))
	r.dirs = append(r.dirs, made...)
	if err != nil {
		r.fail(in, err)
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".futures-*.part")
	if err != nil {
		r.fail(in, err)
		return
	}
	in.tmp = tmp
}

// place renames the whole file of in into place, with its mode.
func (r *fileReceiver) place(in *incoming) {
	if in.tmp == nil {
		return
	}
	tmp := in.tmp
	in.tmp = nil
	err := tmp.Chmod(in.hdr.Mode.Perm())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), in.dest)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		r.errs = append(r.errs, fmt.Errorf("%s %s: %w", r.flag, in.hdr.Path, err))
		return
	}
	r.placed = append(r.placed, in.dest)
	r.bytes += in.n
}

// fail records that the file of in cannot be placed, and drops what it
// has of it.
func (r *fileReceiver) fail(in *incoming, err error) {
	if in.tmp != nil {
		_ = in.tmp.Close()
		_ = os.Remove(in.tmp.Name())
		in.tmp = nil
	}
	r.errs = append(r.errs, fmt.Errorf("%s %s: %w", r.flag, in.hdr.Path, err))
}

// abandon drops the file under way, if any.
func (r *fileReceiver) abandon() {
	if r.cur != nil && r.cur.tmp != nil {
		_ = r.cur.tmp.Close()
		_ = os.Remove(r.cur.tmp.Name())
	}
	r.cur = nil
}

// err is the errors of the files, in one.
func (r *fileReceiver) err() error {
	return errors.Join(r.errs...)
}

// mkdirs makes dir and those of its parents that are missing, and returns
// the ones it made, outermost first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		switch {
		case err == nil:
			made = append(made, missing[i])
		case !errors.Is(err, fs.ErrExist):
			return made, err
		}
	}
	return made, nil
}

// say writes msg, line by line, to a job's stderr w (nil: nowhere) as
// futures says what went wrong with a job: "futures: …".
func say(w io.Writer, msg string) {
	if w == nil {
		return
	}
	for line := range strings.SplitSeq(msg, "\n") {
		_, _ = io.WriteString(w, "futures: "+line+"\n")
	}
}

// joinErrors returns prev and errs as one error, prev's message then the
// lines of each of errs, "; " between them; nil when all are nil. It
// matches (errors.Is) what each of them matches.
func joinErrors(prev error, errs ...error) error {
	msg := ""
	all := []error{}
	if prev != nil {
		msg = prev.Error()
		all = append(all, prev)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		all = append(all, err)
		for line := range strings.SplitSeq(err.Error(), "\n") {
			if msg != "" {
				msg += "; "
			}
			msg += line
		}
	}
	if len(all) == 0 {
		return nil
	}
	return &joinedError{msg: msg, errs: all}
}

// joinedError is what joinErrors returns.
type joinedError struct {
	msg  string
	errs []error
}

func (e *joinedError) Error() string   { return e.msg }
func (e *joinedError) Unwrap() []error { return e.errs }

// The runner's side.

// runnerFiles is the runner's side of one job's files.
type runnerFiles struct {
	transfer []string   // the job's Transfer list
	open     []*os.File // its files, opened before the job's Job frame
	infos    []fs.FileInfo
	sent     int64 // bytes of Transfer files sent
	gaveUp   error // why a Transfer file was given up (the job did not run)
	recv     *fileReceiver
}

// openFiles checks the names of spec's files and opens its Transfer files,
// before the job's Job frame goes out; from a worker that shares the
// runner's files it first drops those that are the runner's own (see
// notShared). It returns nil when the job has no files; a job that cannot
// have them (a name that leaves the worker's directory, a file that
// cannot be read, a worker without FeatureFiles) fails at once, with the
// outcome it returns, and is not sent.
func (pr *proc) openFiles(spec *job.Spec) (*runnerFiles, *job.Outcome) {
	if pr.sharesFiles() {
		spec.Transfer = pr.notShared(spec.Transfer, spec.Dir)
		spec.Return = pr.notShared(spec.Return, spec.Dir)
	}
	if len(spec.Transfer) == 0 && len(spec.Return) == 0 {
		return nil, nil
	}
	rf := &runnerFiles{transfer: spec.Transfer}
	fail := func(err error) (*runnerFiles, *job.Outcome) {
		rf.close()
		return nil, &job.Outcome{ExitCode: -1, Err: fmt.Errorf("not started: %w", err), Start: time.Now()}
	}
	if !slices.Contains(pr.hello.Features, wire.FeatureFiles) {
		return fail(fmt.Errorf("%s (futures %s on %s) cannot transfer files (--transferfile, --return): it is an older futures",
			pr.name, cmp.Or(pr.hello.Futures, "?"), cmp.Or(pr.hello.Hostname, "?")))
	}
	for _, name := range spec.Return {
		if _, err := WorkerPath(name); err != nil {
			return fail(fmt.Errorf("--return %w", err))
		}
	}
	for _, name := range spec.Transfer {
		if _, err := WorkerPath(name); err != nil {
			return fail(fmt.Errorf("--transferfile %w", err))
		}
		f, err := os.Open(name)
		if err != nil {
			return fail(fmt.Errorf("--transferfile %s: cannot read it: %w", name, err))
		}
		rf.open = append(rf.open, f)
		fi, err := f.Stat()
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
		}
		if err != nil {
			return fail(fmt.Errorf("--transferfile %s: cannot read it: %w", name, err))
		}
		rf.infos = append(rf.infos, fi)
	}
	rf.recv = &fileReceiver{
		flag: "--return", names: spec.Return,
		dest: func(name string) (string, error) { return filepath.Clean(name), nil },
	}
	return rf, nil
}

// sharesFiles reports whether pr's worker sees the runner's own files: it
// runs on this machine (its Hello has our hostname and boot id) and the
// directory its Ready names is, here, the very directory it identified.
// A local worker does, as a worker over ssh to this host may.
func (pr *proc) sharesFiles() bool {
	pr.sharesOnce.Do(func() {
		host, _ := os.Hostname()
		pr.shares = pr.hello.Boot != "" && pr.hello.Boot == wire.BootID() && pr.hello.Hostname == host &&
			pr.ready.Dir != "" && pr.ready.DirID != "" && fileID(pr.ready.Dir) == pr.ready.DirID
	})
	return pr.shares
}

// notShared returns the names of names that are not, for a worker that
// shares the runner's files, the very file the runner means: a file at
// the same place on both sides is neither sent nor brought back (nor
// removed by Cleanup), as GNU parallel ignores --transferfile and --return
// for the local host. dir is the job's directory on the worker ("": the
// worker's).
func (pr *proc) notShared(names []string, dir string) []string {
	if len(names) == 0 {
		return names
	}
	if dir == "" {
		dir = pr.ready.Dir
	}
	var keep []string
	for _, name := range names {
		wp, err := WorkerPath(name)
		if err == nil && !filepath.IsAbs(wp) {
			wp = filepath.Join(dir, wp)
		}
		lp, lerr := filepath.Abs(name)
		if err != nil || lerr != nil || canonical(wp) != canonical(lp) {
			keep = append(keep, name)
		}
	}
	return keep
}

// canonical is the absolute path p with the symbolic links of the part of
// it that exists resolved, so that two names of one file compare equal.
func canonical(p string) string {
	rest := ""
	for d := p; ; d = filepath.Dir(d) {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(r, rest)
		}
		rest = filepath.Join(filepath.Base(d), rest)
		if filepath.Dir(d) == d {
			return p
		}
	}
}

// fileID identifies the file at path on this machine ("device:inode"),
// "" when it cannot be read.
func fileID(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(st.Ino, 10)
}

// send sends the Transfer files of job id after its Job frame. A file
// given up (ctx ended, a read error) is the last one sent: the worker does
// not run the job. The error is one of writing a frame: the worker is gone.
func (rf *runnerFiles) send(ctx context.Context, fw *wire.Writer, id uint64) error {
	if rf == nil {
		return nil
	}
	rf.recv.id = id
	for i, f := range rf.open {
		hdr := wire.FileHeader{ID: id, Index: i, Path: rf.transfer[i], Mode: rf.infos[i].Mode(), Size: rf.infos[i].Size()}
		n, gaveUp, err := wire.SendFile(fw, f, hdr, ctx.Err)
		rf.sent += n
		if err != nil {
			return err
		}
		if gaveUp != nil {
			rf.gaveUp = gaveUp
			return nil
		}
	}
	return nil
}

// frame takes a file frame that came while the job ran: one of its Return
// files. A runner that asked for none takes none.
func (rf *runnerFiles) frame(typ wire.FrameType, p []byte, id uint64) error {
	if rf == nil {
		return wire.Errorf("unexpected %v frame while job %d runs", typ, id)
	}
	return rf.recv.frame(typ, p)
}

// finish adds to the job's outcome what became of its files: the bytes
// sent and received, the Return files that could not be placed (which it
// also says on the job's stderr), and a job cancelled while its files were
// sent. It is an error for the worker to end a job in the middle of a file.
func (rf *runnerFiles) finish(ctx context.Context, out job.Outcome, stderr io.Writer) (job.Outcome, error) {
	if rf == nil {
		return out, nil
	}
	if rf.recv.cur != nil {
		return out, wire.Errorf("the Outcome of job %d came in the middle of file %d", rf.recv.id, rf.recv.cur.hdr.Index)
	}
	out.Sent, out.Received = rf.sent, rf.recv.bytes
	if err := rf.recv.err(); err != nil {
		say(stderr, err.Error())
		out.Err = joinErrors(out.Err, err)
	}
	if rf.gaveUp != nil && ctx.Err() != nil {
		out.Canceled = true
	}
	return out, nil
}

// close closes the Transfer files and drops a Return file under way.
func (rf *runnerFiles) close() {
	if rf == nil {
		return
	}
	for _, f := range rf.open {
		_ = f.Close()
	}
	if rf.recv != nil {
		rf.recv.abandon()
	}
}

// The worker's side.

// workerFiles is the worker's side of one job's files.
type workerFiles struct {
	recv *fileReceiver // the Transfer files
	sent []string      // the Return files sent back
	dir  string        // where relative names land; "": the worker's own
}

// receiveFiles reads the Transfer files of m's job, which follow its Job
// frame, acting on Cancel and Kill frames among them: it is called by
// read. It returns m with its files, or a msg with the error that ends the
// session (a garbled stream, the end of stdin).
func (s *server) receiveFiles(fr *wire.Reader, m msg) msg {
	job := &m.job
	if len(job.Transfer) == 0 && len(job.Return) == 0 {
		return m
	}
	// The job's directory: the initializer has run (Ready went out before
	// the runner sent this Job), so s.dir is settled.
	dir := job.Dir
	if dir == "" {
		dir = s.dir
	}
	wf := &workerFiles{dir: dir}
	wf.recv = &fileReceiver{
		id: job.ID, flag: "--transferfile", names: job.Transfer, inStep: true,
		dest: wf.path,
	}
	m.files = wf
	for wf.recv.next < len(job.Transfer) && !wf.recv.ended || wf.recv.cur != nil {
		typ, p, err := fr.Next()
		switch {
		case err != nil:
		case typ == wire.FrameError:
			err = wire.PeerErrorOf(p)
		case typ == wire.FrameCancel || typ == wire.FrameKill:
			err = s.control(typ, p)
		default:
			err = wf.recv.frame(typ, p)
		}
		if err != nil {
			wf.recv.abandon()
			if job.Cleanup {
				wf.clean()
			}
			return msg{err: err}
		}
	}
	return m
}

// describeDir adds to a Ready that says the worker is ready the directory
// its jobs run in and its identity, for a runner on the same machine to
// tell whether the worker shares its files (proc.sharesFiles).
func (s *server) describeDir(r *wire.ReadyFrame) {
	if r.Error != "" {
		return
	}
	if r.Dir == "" {
		r.Dir, _ = os.Getwd()
	}
	r.DirID = fileID(r.Dir)
}

// path is where name lands on this worker.
func (wf *workerFiles) path(name string) (string, error) {
	p, err := WorkerPath(name)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) && wf.dir != "" {
		p = filepath.Join(wf.dir, p)
	}
	return p, nil
}

// runJob runs the job of m between its files: a job whose Transfer files
// did not all arrive does not run; after one that ran (and was not
// cancelled), its Return files go back; then, with Cleanup, the files are
// removed.
func (s *server) runJob(m msg) job.Outcome {
	wf := m.files
	if wf == nil {
		return s.run(m.t, m.job)
	}
	var out job.Outcome
	stderr := chunkWriter{s.fw, wire.FrameStderr}
	if err := wf.recv.err(); err != nil {
		if !wf.recv.ended { // else the runner gave a file up: it knows why
			say(stderr, err.Error())
		}
		out = job.Outcome{ExitCode: -1, Err: fmt.Errorf("not started: %w", joinErrors(nil, err)), Start: time.Now()}
	} else {
		out = s.run(m.t, m.job)
		if !out.Canceled {
			if err := errors.Join(wf.sendReturns(m.t.ctx, s.fw, m.job)...); err != nil {
				say(stderr, err.Error())
				out.Err = joinErrors(out.Err, err)
			}
		}
	}
	if m.job.Cleanup {
		wf.clean()
	}
	return out
}

// sendReturns sends the Return files of job back to the runner, and
// returns the errors of those it could not.
func (wf *workerFiles) sendReturns(ctx context.Context, fw *wire.Writer, job wire.JobFrame) []error {
	var errs []error
	for i, name := range job.Return {
		p, err := wf.path(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("--return %w", err))
			continue
		}
		f, err := os.Open(p)
		var fi fs.FileInfo
		if err == nil {
			fi, err = f.Stat()
			if err == nil && !fi.Mode().IsRegular() {
				err = fmt.Errorf("%s: not a regular file (%v)", p, fi.Mode().Type())
			}
		}
		if err != nil {
			if f != nil {
				_ = f.Close()
			}
			errs = append(errs, fmt.Errorf("--return %s: %w", name, err))
			continue
		}
		hdr := wire.FileHeader{ID: job.ID, Index: i, Path: name, Mode: fi.Mode(), Size: fi.Size()}
		_, gaveUp, werr := wire.SendFile(fw, f, hdr, ctx.Err)
		_ = f.Close()
		if werr != nil {
			return append(errs, werr) // the runner is gone
		}
		if gaveUp != nil {
			errs = append(errs, fmt.Errorf("--return %s: %w", name, gaveUp))
			continue
		}
		wf.sent = append(wf.sent, p)
	}
	return errs
}

// clean removes the files received and sent back, then the directories
// made for the received ones, innermost first, when they are empty.
func (wf *workerFiles) clean() {
	for _, p := range slices.Concat(wf.recv.placed, wf.sent) {
		_ = os.Remove(p)
	}
	for i := len(wf.recv.dirs) - 1; i >= 0; i-- {
		_ = os.Remove(wf.recv.dirs[i]) // fails, as it should, when not empty
	}
	wf.recv.placed, wf.sent, wf.recv.dirs = nil, nil, nil
}
