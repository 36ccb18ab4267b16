// Package wire is the worker protocol between a ProcessPool and its
// workers: frames, the Hello handshake, and their JSON (with fast paths).
package wire

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
//     (fastjson.go, in this package) that write the same bytes and read the same JSON in
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
// holds the Started frame and the job's output back (Writer.Cork) until
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
// Outcome says why); the indexes of those sent increase. pool.WorkerPath says
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
	"strconv"
	"sync"
)

// MaxFrame is the largest payload a frame may carry: 16 MiB. Output chunks
// are far smaller (a pipe read); a longer length field means a garbled
// stream.
const MaxFrame = 16 << 20

// FrameType is the type byte of a frame.
type FrameType byte

// The frame types. The direction is runner → worker (R→W) or worker →
// runner (W→R).
const (
	FrameHello FrameType = 0x01 // both ways, first: a Hello
	FrameError FrameType = 0x02 // both ways: a fatal ErrorFrame; the sender stops
	FrameInit  FrameType = 0x03 // R→W, once after Hello: an InitFrame
	FrameReady FrameType = 0x04 // W→R, the answer to Init: a ReadyFrame

	FrameJob     FrameType = 0x10 // R→W: a JobFrame, run it
	FrameCancel  FrameType = 0x11 // R→W: a JobRef, stop that job (TERM, KILL after grace)
	FrameKill    FrameType = 0x12 // R→W: a JobRef, KILL that job now
	FrameStarted FrameType = 0x13 // W→R: a StartedFrame, the job's process started
	FrameStdout  FrameType = 0x14 // W→R: raw bytes the running job wrote to its stdout
	FrameStderr  FrameType = 0x15 // W→R: raw bytes the running job wrote to its stderr
	FrameOutcome FrameType = 0x16 // W→R: an OutcomeFrame, the job is over

	FrameFileHeader FrameType = 0x20 // both ways: a FileHeader, a file of the job follows
	FrameFileData   FrameType = 0x21 // both ways: raw bytes of that file, at most FileChunk
	FrameFileEnd    FrameType = 0x22 // both ways: a FileEnd, that file is whole (or given up)

	// 0x23–0x2f are reserved for file transfer; 0x30 and up for later use.
)

var frameNames = map[FrameType]string{
	FrameHello: "Hello", FrameError: "Error", FrameInit: "Init", FrameReady: "Ready",
	FrameJob: "Job", FrameCancel: "Cancel", FrameKill: "Kill", FrameStarted: "Started",
	FrameStdout: "Stdout", FrameStderr: "Stderr", FrameOutcome: "Outcome",
	FrameFileHeader: "FileHeader", FrameFileData: "FileData", FrameFileEnd: "FileEnd",
}

// String returns the frame type's name ("Job"), or its number in hex.
func (t FrameType) String() string {
	if n, ok := frameNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", byte(t))
}

// ErrProtocol matches every error of a garbled, truncated or unexpected
// frame, and of a version mismatch.
var ErrProtocol = errors.New("pool: worker protocol error")

// Errorf returns an error matching ErrProtocol.
func Errorf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, a...)...)
}

// Reader reads frames from a stream. The payload it returns is valid
// until the next call. It is not safe for concurrent use.
type Reader struct {
	r     *bufio.Reader
	buf   []byte
	first bool // no frame read yet: errors quote the bytes seen
}

// NewReader returns a Reader of the frames of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), first: true}
}

// Next reads one frame. At a clean end of the stream (EOF before a header)
// it returns io.EOF; any other fault is an error matching ErrProtocol (a
// truncated frame also matches io.ErrUnexpectedEOF) or the stream's error.
func (fr *Reader) Next() (FrameType, []byte, error) {
	var hdr [5]byte
	n, err := io.ReadFull(fr.r, hdr[:])
	if err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, Errorf("truncated frame: %d of 5 header bytes, then end of stream: %w", n, io.ErrUnexpectedEOF)
		}
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	typ := FrameType(hdr[4])
	if size > MaxFrame {
		return 0, nil, Errorf("garbled frame: length %d exceeds the %d-byte limit%s", size, MaxFrame, fr.quote(hdr[:]))
	}
	if _, ok := frameNames[typ]; !ok {
		return 0, nil, Errorf("garbled frame: unknown frame type %v%s", typ, fr.quote(hdr[:]))
	}
	fr.first = false
	if cap(fr.buf) < int(size) {
		fr.buf = make([]byte, size, max(int(size), 4<<10))
	}
	p := fr.buf[:size]
	if n, err := io.ReadFull(fr.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, Errorf("truncated %v frame: %d of %d payload bytes, then end of stream: %w", typ, n, size, io.ErrUnexpectedEOF)
		}
		return 0, nil, err
	}
	return typ, p, nil
}

// quote shows the first bytes of a stream that does not start with a
// frame: usually something else writing to the worker's stdout (a login
// banner, a shell's rc file).
func (fr *Reader) quote(hdr []byte) string {
	if !fr.first {
		return ""
	}
	peek, _ := fr.r.Peek(min(fr.r.Buffered(), 32))
	return fmt.Sprintf(" (the stream starts %s: is something else writing to the worker's stdout?)",
		strconv.Quote(string(hdr)+string(peek)))
}

// NextJSON reads one frame, which must be of type want (or FrameError, which
// becomes the error it carries), and decodes its payload into v.
func (fr *Reader) NextJSON(want FrameType, v any) error {
	typ, p, err := fr.Next()
	if err != nil {
		return err
	}
	if typ == FrameError {
		return PeerErrorOf(p)
	}
	if typ != want {
		return Errorf("unexpected %v frame, want %v", typ, want)
	}
	return Decode(typ, p, v)
}

// Decode decodes the JSON payload p of a frame of type typ into v.
func Decode(typ FrameType, p []byte, v any) error {
	if d, ok := v.(fastDecoder); ok && d.decodeFast(p) {
		return nil
	}
	if err := json.Unmarshal(p, v); err != nil {
		return Errorf("garbled %v frame: %v", typ, err)
	}
	return nil
}

// PeerError is the error a peer reported in a FrameError before it stopped.
type PeerError struct{ Message string }

// Error returns the peer's message.
func (e *PeerError) Error() string { return e.Message }

// PeerErrorOf turns the payload of a FrameError into an error.
func PeerErrorOf(p []byte) error {
	var ef ErrorFrame
	if err := Decode(FrameError, p, &ef); err != nil {
		return err
	}
	return &PeerError{Message: ef.Message}
}

// Writer writes frames to a stream, each whole and flushed: one write
// per frame, except that a frame put aside with HoldJSON goes out in the
// same write as the next frame sent (or at Uncork). It is safe for
// concurrent use. After a write fails, every later one returns that error.
type Writer struct {
	mu     sync.Mutex // guards w, err and corked
	w      *bufio.Writer
	err    error
	corked bool // Send buffers frames rather than writing them (see Cork)
}

// NewWriter returns a Writer of frames to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Send writes one frame of type typ with payload p, split into several
// frames of the same type if p is longer than MaxFrame (only output chunks
// can be).
func (fw *Writer) Send(typ FrameType, p []byte) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for {
		n := min(len(p), MaxFrame)
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

// Cork makes Send keep frames in the buffer (written only when it fills)
// until Uncork or Release: a worker corks its writer for the first moments
// of a job, so that a short job's output, Started and Outcome leave in one
// write. One write rather than several matters most where the pipe is a
// TCP connection (ssh, srun's I/O forwarding): a second small write waits
// there for the ACK of the first, which the peer delays up to 40 ms.
func (fw *Writer) Cork() {
	fw.mu.Lock()
	fw.corked = true
	fw.mu.Unlock()
}

// Uncork ends Cork and writes out what it held.
func (fw *Writer) Uncork() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.corked = false
	return fw.flushLocked()
}

// Release ends Cork without writing: the next frame sent takes what it held
// along, in one write.
func (fw *Writer) Release() {
	fw.mu.Lock()
	fw.corked = false
	fw.mu.Unlock()
}

func (fw *Writer) flushLocked() error {
	if fw.err == nil && fw.w.Buffered() > 0 {
		fw.err = fw.w.Flush()
	}
	return fw.err
}

func (fw *Writer) writeLocked(typ FrameType, p []byte) {
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

// SendJSON writes one frame of type typ whose payload is v as JSON.
func (fw *Writer) SendJSON(typ FrameType, v any) error {
	p, err := marshal(v)
	if err != nil {
		return fmt.Errorf("pool: encoding a %v frame: %w", typ, err)
	}
	return fw.Send(typ, p)
}

// HoldJSON puts one frame of type typ whose payload is v as JSON into the
// buffer, whole, without writing it: it goes out with the next frame sent,
// or at Uncork.
func (fw *Writer) HoldJSON(typ FrameType, v any) error {
	p, err := marshal(v)
	if err != nil {
		return fmt.Errorf("pool: encoding a %v frame: %w", typ, err)
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.writeLocked(typ, p)
	return fw.err
}

// SendError writes a FrameError carrying err's message.
func (fw *Writer) SendError(err error) error {
	return fw.SendJSON(FrameError, ErrorFrame{Message: err.Error()})
}
