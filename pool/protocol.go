package pool

// The worker protocol: how a ProcessPool and a worker process (futures
// worker, or any program that speaks it) talk over the worker's stdin and
// stdout. docs/process-executor.md describes it for a reader who is not
// reading Go.
//
// # Framing
//
// A frame is a 5-byte header followed by a payload:
//
//	+----------------+------+------------------------+
//	| length: uint32 | type | payload (length bytes)  |
//	|   big-endian   | byte |                         |
//	+----------------+------+------------------------+
//
// length counts the payload only and is at most MaxFrame. type is one of the
// Frame* constants; a reader rejects any other. The payload of FrameStdout
// and FrameStderr is the job's output as it is; every other payload is one
// JSON object.
//
// Why this framing, and why JSON:
//   - A length prefix lets a reader take a frame whole with two reads into a
//     buffer it reuses, find a truncated stream (EOF inside a frame) and a
//     garbled one (a length past MaxFrame, a type it does not know) at the
//     first bad byte, and never scan a payload for a delimiter: output
//     chunks travel as raw bytes, unescaped, at the cost of five bytes each.
//   - JSON for the control frames (hello, init, job, outcome…) rather than
//     encoding/gob: gob is a stream with state (a type is described once,
//     then referred to), so one garbled or dropped frame corrupts every
//     later one and a frame cannot be decoded on its own; its evolution rules
//     are Go's alone. JSON frames stand alone, ignore fields they do not know
//     (a newer peer may add optional fields without a version bump), can be
//     read in a hex dump of a broken session, and can be spoken by a worker
//     written in another language. Through encoding/json alone the frames
//     of a job cost about 13 us of CPU (encoded and decoded), half of what
//     a worker spent on a job besides system calls; so the three frames
//     every job sends (Job, Started, Outcome) have fast paths
//     (fastjson.go) that write the same bytes and read the same JSON in
//     about 2 us, and leave any other form to encoding/json.
//   - Not a hand-rolled binary encoding of each message: it would save those
//     microseconds and cost a codec per message to write, test and evolve,
//     and a wire format no other tool can read.
//
// # Versions and the handshake
//
// The worker sends its FrameHello first, as soon as it starts; the runner
// reads it, then sends its own Hello and the Init at once (no side ever
// writes into a pipe the other is not reading, and no round trip is spent).
// A Hello says who speaks: protocol version, futures version, GOOS/GOARCH,
// CPUs, hostname and pid. The two must speak the same ProtocolVersion; a
// side that finds otherwise sends a FrameError saying so and stops. A change that an older peer cannot ignore (a new frame type it
// must act on, a changed meaning) bumps ProtocolVersion; a new optional JSON
// field does not. Frame types are grouped with room to grow: 0x0_ session,
// 0x1_ jobs, 0x2_ file transfer, 0x3_ and up for later use.
//
// A Hello may list Features, optional parts of the protocol its sender
// speaks; a side uses one only with a peer whose Hello lists it. So a
// feature's frames never reach a peer that would not know them, and adding
// one does not bump ProtocolVersion. The one feature so far is
// FeatureFiles, "files": a job's files (below).
//
// # A session
//
//	worker → runner: Hello
//	runner → worker: Hello, Init
//	worker → runner: Ready (its Error field set if the initializer failed)
//	then for each job, one at a time:
//	runner → worker: Job [its Transfer files] [Cancel] [Kill]
//	worker → runner: Started, Stdout/Stderr chunks…, [its Return files], Outcome
//	runner closes the worker's stdin: the worker exits.
//
// A worker runs one job at a time. Cancel asks it to stop the job (TERM to
// the job's process group, KILL after the job's grace); Kill, to KILL it at
// once. Both name the job, and a worker ignores one for a job that is no
// longer running. When its stdin closes (EOF) while a job runs, the runner is
// gone: the worker KILLs the job's group and exits.
//
// The round trip of a job is the cost of this protocol, so a worker spends
// no write and no wakeup of the runner that a short job does not need: it
// holds the Started frame and the job's output back (frameWriter.cork) until
// they can go out in one write with its Outcome, or until the job has run
// for 2 ms, when they are written and later output goes out as it comes
// (the runner needs the pid only to KILL the job's group should the worker
// die mid-job; one write rather than several matters over TCP, ssh or
// srun's I/O forwarding, where a second small write waits for a delayed
// ACK, 40 ms), and it reads the runner's frames during a job only once the job
// has run for 2 ms (so Cancel, Kill and EOF are acted on at most that late).
// Neither changes the frames or their order.
//
// # Files (feature "files")
//
// A job whose job.Spec lists Transfer files (--transferfile) has them
// follow its Job frame, in that order; Return files (--return) come back
// the same way after the job's last output, before its Outcome. A file is
//
//	FileHeader {id, index, path, mode, size}, FileData…, FileEnd {id, index, size}
//
// index is its place in the job's Transfer or Return list, path is its
// name there, mode its permission bits, size what the sender found when it
// began; each FileData frame carries at most FileChunk (1 MiB) of its bytes,
// raw, so that neither side ever holds a whole file; FileEnd gives the
// bytes sent, which the receiver checks. The receiver writes to a temporary
// name in the file's directory (created as needed) and renames it into
// place at FileEnd, with the mode. A FileEnd with an error is a file the
// sender gave up on (a read error, or the job was cancelled): the receiver
// drops it, and from the runner no more files of that job follow (the job
// does not run). A Return file the worker cannot read is left out (its
// Outcome says why); the indexes of those sent increase. WorkerPath says
// where a name lands on the worker; on the runner, returned files land at
// their name, relative to its working directory. With Cleanup, the worker
// removes the files it received and those it sent back, and the
// directories it created for them if they are empty, before the Outcome.
// A runner whose worker shares its files (same hostname and Hello.Boot,
// and the directory of the worker's Ready, by its DirID, is the runner's
// too) leaves out the names that are the very same file on both sides:
// they are neither sent, nor brought back, nor removed.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/futures-cli/futures/pool/job"
)

// protocolVersion is the version of the worker protocol this package speaks.
// A runner and a worker must speak the same one.
const protocolVersion = 1

// maxFrame is the largest payload a frame may carry: 16 MiB. Output chunks
// are far smaller (a pipe read); a longer length field means a garbled
// stream.
const maxFrame = 16 << 20

// frameType is the type byte of a frame.
type frameType byte

// The frame types. The direction is runner → worker (R→W) or worker →
// runner (W→R).
const (
	frameHello frameType = 0x01 // both ways, first: a Hello
	frameError frameType = 0x02 // both ways: a fatal ErrorFrame; the sender stops
	frameInit  frameType = 0x03 // R→W, once after Hello: an InitFrame
	frameReady frameType = 0x04 // W→R, the answer to Init: a ReadyFrame

	frameJob     frameType = 0x10 // R→W: a JobFrame, run it
	frameCancel  frameType = 0x11 // R→W: a JobRef, stop that job (TERM, KILL after grace)
	frameKill    frameType = 0x12 // R→W: a JobRef, KILL that job now
	frameStarted frameType = 0x13 // W→R: a StartedFrame, the job's process started
	frameStdout  frameType = 0x14 // W→R: raw bytes the running job wrote to its stdout
	frameStderr  frameType = 0x15 // W→R: raw bytes the running job wrote to its stderr
	frameOutcome frameType = 0x16 // W→R: an OutcomeFrame, the job is over

	frameFileHeader frameType = 0x20 // both ways: a FileHeader, a file of the job follows
	frameFileData   frameType = 0x21 // both ways: raw bytes of that file, at most FileChunk
	frameFileEnd    frameType = 0x22 // both ways: a FileEnd, that file is whole (or given up)

	// 0x23–0x2f are reserved for file transfer; 0x30 and up for later use.
)

var frameNames = map[frameType]string{
	frameHello: "Hello", frameError: "Error", frameInit: "Init", frameReady: "Ready",
	frameJob: "Job", frameCancel: "Cancel", frameKill: "Kill", frameStarted: "Started",
	frameStdout: "Stdout", frameStderr: "Stderr", frameOutcome: "Outcome",
	frameFileHeader: "FileHeader", frameFileData: "FileData", frameFileEnd: "FileEnd",
}

// String returns the frame type's name ("Job"), or its number in hex.
func (t frameType) String() string {
	if n, ok := frameNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", byte(t))
}

// ErrProtocol matches every error of a garbled, truncated or unexpected
// frame, and of a version mismatch.
var ErrProtocol = errors.New("pool: worker protocol error")

// protocolErrorf returns an error matching ErrProtocol.
func protocolErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, a...)...)
}

// Hello is the payload of FrameHello: who is speaking. Both sides send one.
type Hello struct {
	Protocol int    `json:"protocol"` // ProtocolVersion
	Futures  string `json:"futures"`  // the futures version
	Role     string `json:"role"`     // "runner" or "worker"
	GOOS     string `json:"goos"`
	GOARCH   string `json:"goarch"`
	CPUs     int    `json:"cpus"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// Features are the optional parts of the protocol the sender speaks
	// (FeatureFiles); a peer uses one only with a peer that lists it.
	Features []string `json:"features,omitempty"`
	// Boot is the machine's boot id (Linux: /proc/sys/kernel/random/boot_id),
	// "" when unknown: with Hostname, it tells a peer on the same machine.
	Boot string `json:"boot,omitempty"`
}

// errorFrame is the payload of FrameError: why the sender stops.
type errorFrame struct {
	Message string `json:"message"`
}

// initFrame is the payload of FrameInit: who the worker is, and the
// initializer it runs before its first job.
type initFrame struct {
	Name        string        // the worker's name, PREFIX_N
	ID          int           // N
	Initializer string        // a shell snippet; "" for none
	Shell       []string      // runs the snippet: SHELL... SCRIPT; empty: /bin/sh -c
	Env         []string      // extra KEY=VALUE for the initializer
	Grace       time.Duration // TERM → KILL for the initializer, when the worker is stopped
}

// readyFrame is the payload of FrameReady: the initializer's result. Error
// is "" when the worker is ready for jobs; otherwise the worker exits.
type readyFrame struct {
	Error  string // what failed: "exit status 1", …
	Stderr string // the end of the initializer's stderr
	Dir    string // the working directory its jobs get
	// DirID identifies Dir on its machine ("device:inode"), for a runner
	// on the same machine to tell whether it is its own (transfer.go).
	DirID string
}

// jobFrame is the payload of FrameJob.
type jobFrame struct {
	ID uint64 `json:"id"` // unique within the session, from 1
	job.Spec
}

// jobRef is the payload of FrameCancel and FrameKill.
type jobRef struct {
	ID uint64 `json:"id"`
}

// startedFrame is the payload of FrameStarted: the job's main process, which
// leads its process group.
type startedFrame struct {
	ID  uint64 `json:"id"`
	PID int    `json:"pid"`
}

// outcomeFrame is the payload of FrameOutcome. Its error crosses the wire
// as its text and the names of the sentinels of package job it matches
// (job.Kinds), and comes back matching them (job.FromWire); Sent and
// Received are not sent.
type outcomeFrame struct {
	ID uint64 `json:"id"`
	job.Outcome
}

// localHello is this process's Hello in the given role.
func localHello(role string) Hello {
	host, _ := os.Hostname()
	return Hello{
		Protocol: protocolVersion, Futures: futuresVersion(), Role: role,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Hostname: host, PID: os.Getpid(), Features: []string{featureFiles}, Boot: bootID(),
	}
}

// futuresVersion is the version of this build: the main module's version,
// or its VCS revision for a development build.
var futuresVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
})

// checkHello checks the hello the peer sent: it must speak our protocol.
func checkHello(peer Hello) error {
	if peer.Protocol != protocolVersion {
		return protocolErrorf("version mismatch: the %s (futures %s, pid %d on %s) speaks protocol %d; this futures (%s) speaks protocol %d",
			orDefault(peer.Role, "peer"), orDefault(peer.Futures, "?"), peer.PID, orDefault(peer.Hostname, "?"),
			peer.Protocol, futuresVersion(), protocolVersion)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// frameReader reads frames from a stream. The payload it returns is valid
// until the next call. It is not safe for concurrent use.
type frameReader struct {
	r     *bufio.Reader
	buf   []byte
	first bool // no frame read yet: errors quote the bytes seen
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), first: true}
}

// next reads one frame. At a clean end of the stream (EOF before a header)
// it returns io.EOF; any other fault is an error matching ErrProtocol (a
// truncated frame also matches io.ErrUnexpectedEOF) or the stream's error.
func (fr *frameReader) next() (frameType, []byte, error) {
	var hdr [5]byte
	n, err := io.ReadFull(fr.r, hdr[:])
	if err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, protocolErrorf("truncated frame: %d of 5 header bytes, then end of stream: %w", n, io.ErrUnexpectedEOF)
		}
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	typ := frameType(hdr[4])
	if size > maxFrame {
		return 0, nil, protocolErrorf("garbled frame: length %d exceeds the %d-byte limit%s", size, maxFrame, fr.quote(hdr[:]))
	}
	if _, ok := frameNames[typ]; !ok {
		return 0, nil, protocolErrorf("garbled frame: unknown frame type %v%s", typ, fr.quote(hdr[:]))
	}
	fr.first = false
	if cap(fr.buf) < int(size) {
		fr.buf = make([]byte, size, max(int(size), 4<<10))
	}
	p := fr.buf[:size]
	if n, err := io.ReadFull(fr.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, protocolErrorf("truncated %v frame: %d of %d payload bytes, then end of stream: %w", typ, n, size, io.ErrUnexpectedEOF)
		}
		return 0, nil, err
	}
	return typ, p, nil
}

// quote shows the first bytes of a stream that does not start with a
// frame: usually something else writing to the worker's stdout (a login
// banner, a shell's rc file).
func (fr *frameReader) quote(hdr []byte) string {
	if !fr.first {
		return ""
	}
	peek, _ := fr.r.Peek(min(fr.r.Buffered(), 32))
	return fmt.Sprintf(" (the stream starts %s: is something else writing to the worker's stdout?)",
		strconv.Quote(string(hdr)+string(peek)))
}

// nextJSON reads one frame, which must be of type want (or FrameError, which
// becomes the error it carries), and decodes its payload into v.
func (fr *frameReader) nextJSON(want frameType, v any) error {
	typ, p, err := fr.next()
	if err != nil {
		return err
	}
	if typ == frameError {
		return peerErrorOf(p)
	}
	if typ != want {
		return protocolErrorf("unexpected %v frame, want %v", typ, want)
	}
	return decode(typ, p, v)
}

// decode decodes the JSON payload p of a frame of type typ into v.
func decode(typ frameType, p []byte, v any) error {
	if d, ok := v.(fastDecoder); ok && d.decodeFast(p) {
		return nil
	}
	if err := json.Unmarshal(p, v); err != nil {
		return protocolErrorf("garbled %v frame: %v", typ, err)
	}
	return nil
}

// peerError is the error a peer reported in a FrameError before it stopped.
type peerError struct{ Message string }

func (e *peerError) Error() string { return e.Message }

// peerErrorOf turns the payload of a FrameError into an error.
func peerErrorOf(p []byte) error {
	var ef errorFrame
	if err := decode(frameError, p, &ef); err != nil {
		return err
	}
	return &peerError{Message: ef.Message}
}

// frameWriter writes frames to a stream, each whole and flushed: one write
// per frame, except that a frame put aside with holdJSON goes out in the
// same write as the next frame sent (or at uncork). It is safe for
// concurrent use. After a write fails, every later one returns that error.
type frameWriter struct {
	mu     sync.Mutex // guards w, err and corked
	w      *bufio.Writer
	err    error
	corked bool // send buffers frames rather than writing them (see cork)
}

func newFrameWriter(w io.Writer) *frameWriter {
	return &frameWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// send writes one frame of type typ with payload p, split into several
// frames of the same type if p is longer than MaxFrame (only output chunks
// can be).
func (fw *frameWriter) send(typ frameType, p []byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for {
		n := min(len(p), maxFrame)
		fw.writeLocked(typ, p[:n])
		p = p[n:]
		if len(p) == 0 {
			break
		}
	}
	if fw.corked {
		return fw.err
	}
	return fw.flushLocked()
}

// cork makes send keep frames in the buffer (written only when it fills)
// until uncork or release: a worker corks its writer for the first moments
// of a job, so that a short job's output, Started and Outcome leave in one
// write. One write rather than several matters most where the pipe is a
// TCP connection (ssh, srun's I/O forwarding): a second small write waits
// there for the ACK of the first, which the peer delays up to 40 ms.
func (fw *frameWriter) cork() {
	fw.mu.Lock()
	fw.corked = true
	fw.mu.Unlock()
}

// uncork ends cork and writes out what it held.
func (fw *frameWriter) uncork() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.corked = false
	return fw.flushLocked()
}

// release ends cork without writing: the next frame sent takes what it held
// along, in one write.
func (fw *frameWriter) release() {
	fw.mu.Lock()
	fw.corked = false
	fw.mu.Unlock()
}

func (fw *frameWriter) flushLocked() error {
	if fw.err == nil && fw.w.Buffered() > 0 {
		fw.err = fw.w.Flush()
	}
	return fw.err
}

func (fw *frameWriter) writeLocked(typ frameType, p []byte) {
	if fw.err != nil {
		return
	}
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(p)))
	hdr[4] = byte(typ)
	if _, err := fw.w.Write(hdr[:]); err != nil {
		fw.err = err
		return
	}
	if _, err := fw.w.Write(p); err != nil {
		fw.err = err
	}
}

// sendJSON writes one frame of type typ whose payload is v as JSON.
func (fw *frameWriter) sendJSON(typ frameType, v any) error {
	p, err := marshal(v)
	if err != nil {
		return fmt.Errorf("pool: encoding a %v frame: %w", typ, err)
	}
	return fw.send(typ, p)
}

// holdJSON puts one frame of type typ whose payload is v as JSON into the
// buffer, whole, without writing it: it goes out with the next frame sent,
// or at uncork.
func (fw *frameWriter) holdJSON(typ frameType, v any) error {
	p, err := marshal(v)
	if err != nil {
		return fmt.Errorf("pool: encoding a %v frame: %w", typ, err)
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.writeLocked(typ, p)
	return fw.err
}

// sendError writes a FrameError carrying err's message.
func (fw *frameWriter) sendError(err error) error {
	return fw.sendJSON(frameError, errorFrame{Message: err.Error()})
}

// Strings on the wire. JSON strings are UTF-8, and encoding/json replaces
// the bytes of a Go string that are not; but a command line, an argument,
// an environment entry or a path may hold any bytes but NUL. So the frames
// that carry them encode each such string as a JSON string when it is valid
// UTF-8 (nearly always: the frame stays readable) and as {"b64":"…"}, its
// bytes in base64, otherwise; a reader takes either form.

// wstr is a string that crosses the wire byte for byte.
type wstr string

// b64 is the form of a wstr that is not valid UTF-8.
type b64 struct {
	B64 []byte `json:"b64"`
}

func (s wstr) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(s)) {
		return json.Marshal(string(s))
	}
	return json.Marshal(b64{[]byte(s)})
}

func (s *wstr) UnmarshalJSON(p []byte) error {
	if len(p) > 0 && p[0] == '{' {
		var v b64
		if err := json.Unmarshal(p, &v); err != nil {
			return err
		}
		*s = wstr(v.B64)
		return nil
	}
	var v string
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	*s = wstr(v)
	return nil
}

// wstrs is a []string whose elements cross the wire as wstr.
type wstrs []string

func (ss wstrs) MarshalJSON() ([]byte, error) {
	if ss == nil {
		return []byte("null"), nil
	}
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		p, err := wstr(s).MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, p...)
	}
	return append(b, ']'), nil
}

func (ss *wstrs) UnmarshalJSON(p []byte) error {
	var v []wstr
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	if v == nil {
		*ss = nil
		return nil
	}
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	*ss = out
	return nil
}

// The wire forms of the frames that carry such strings.
type (
	initWire struct {
		Name        wstr          `json:"name"`
		ID          int           `json:"id"`
		Initializer wstr          `json:"initializer,omitempty"`
		Shell       wstrs         `json:"shell,omitempty"`
		Env         wstrs         `json:"env,omitempty"`
		Grace       time.Duration `json:"grace_ns,omitempty"`
	}
	readyWire struct {
		Error  wstr   `json:"error,omitempty"`
		Stderr wstr   `json:"stderr,omitempty"`
		Dir    wstr   `json:"dir,omitempty"`
		DirID  string `json:"dir_id,omitempty"`
	}
	jobWire struct {
		ID       uint64        `json:"id"`
		Line     wstr          `json:"line"`
		Argv     wstrs         `json:"argv,omitempty"`
		Shell    bool          `json:"shell,omitempty"`
		ShellCmd wstrs         `json:"shell_cmd,omitempty"`
		Env      wstrs         `json:"env,omitempty"`
		Dir      wstr          `json:"dir,omitempty"`
		Grace    time.Duration `json:"grace_ns,omitempty"`
		Transfer wstrs         `json:"transfer,omitempty"`
		Return   wstrs         `json:"return,omitempty"`
		Cleanup  bool          `json:"cleanup,omitempty"`
		Refuse   bool          `json:"refusable,omitempty"`
	}
	outcomeWire struct {
		ID       uint64        `json:"id"`
		ExitCode int           `json:"exit_code"`
		Signal   string        `json:"signal,omitempty"`
		Error    wstr          `json:"error,omitempty"`
		Start    time.Time     `json:"start"`
		Duration time.Duration `json:"duration_ns"`
		MaxRSSKB int64         `json:"max_rss_kb,omitempty"`
		User     time.Duration `json:"user_ns,omitempty"`
		Sys      time.Duration `json:"sys_ns,omitempty"`
		Canceled bool          `json:"canceled,omitempty"`
		Refused  string        `json:"refused,omitempty"`
		Kinds    []string      `json:"error_kinds,omitempty"`
	}
)

// MarshalJSON encodes f with its strings byte for byte.
func (f initFrame) MarshalJSON() ([]byte, error) {
	return json.Marshal(initWire{wstr(f.Name), f.ID, wstr(f.Initializer), wstrs(f.Shell), wstrs(f.Env), f.Grace})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *initFrame) UnmarshalJSON(p []byte) error {
	var w initWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = initFrame{string(w.Name), w.ID, string(w.Initializer), w.Shell, w.Env, w.Grace}
	return nil
}

// MarshalJSON encodes f with its strings byte for byte.
func (f readyFrame) MarshalJSON() ([]byte, error) {
	return json.Marshal(readyWire{wstr(f.Error), wstr(f.Stderr), wstr(f.Dir), f.DirID})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *readyFrame) UnmarshalJSON(p []byte) error {
	var w readyWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = readyFrame{string(w.Error), string(w.Stderr), string(w.Dir), w.DirID}
	return nil
}

// MarshalJSON encodes f with its strings byte for byte; Environ is not
// sent.
func (f jobFrame) MarshalJSON() ([]byte, error) {
	s := f.Spec
	return json.Marshal(jobWire{f.ID, wstr(s.Line), wstrs(s.Argv), s.Shell, wstrs(s.ShellCmd), wstrs(s.Env), wstr(s.Dir), s.Grace,
		wstrs(s.Transfer), wstrs(s.Return), s.Cleanup, s.Refusable})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *jobFrame) UnmarshalJSON(p []byte) error {
	var w jobWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = jobFrame{ID: w.ID, Spec: job.Spec{Line: string(w.Line), Argv: w.Argv, Shell: w.Shell,
		ShellCmd: w.ShellCmd, Env: w.Env, Dir: string(w.Dir), Grace: w.Grace,
		Transfer: w.Transfer, Return: w.Return, Cleanup: w.Cleanup, Refusable: w.Refuse}}
	return nil
}

// MarshalJSON encodes f with its error byte for byte.
func (f outcomeFrame) MarshalJSON() ([]byte, error) {
	o := f.Outcome
	return json.Marshal(outcomeWire{f.ID, o.ExitCode, o.Signal, wstr(errText(o.Err)), o.Start, o.Duration, o.MaxRSSKB, o.User, o.Sys, o.Canceled,
		job.RefusalName(o.Refused), job.Kinds(o.Err)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (f *outcomeFrame) UnmarshalJSON(p []byte) error {
	var w outcomeWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*f = outcomeFrame{ID: w.ID, Outcome: job.Outcome{ExitCode: w.ExitCode, Signal: w.Signal, Err: job.FromWire(string(w.Error), w.Kinds), Start: w.Start,
		Duration: w.Duration, MaxRSSKB: w.MaxRSSKB, User: w.User, Sys: w.Sys, Canceled: w.Canceled, Refused: job.RefusalErrno(w.Refused)}}
	return nil
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
