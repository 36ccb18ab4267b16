package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// frame builds the bytes of one frame, for the seed corpus.
func frame(typ FrameType, payload string) []byte {
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)))
	hdr[4] = byte(typ)
	return append(hdr[:], payload...)
}

// FuzzDecodeFrame feeds arbitrary bytes to the worker protocol's decoder:
// it must never panic nor hang, and every fault it reports must match
// ErrProtocol (a garbled, truncated or oversize frame) or be the clean end
// of the stream. Each frame of a JSON type is decoded into its struct, as
// the runner and the worker do.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(frame(FrameHello, `{"protocol":1,"version":"dev","os":"linux","arch":"amd64","cpus":2,"hostname":"h"}`))
	f.Add(frame(FrameJob, `{"seq":1,"argv":["echo","hi"]}`))
	f.Add(append(frame(FrameStdout, "hello\n"), frame(FrameOutcome, `{"seq":1,"exit_code":0}`)...))
	f.Add(frame(FrameError, `{"message":"boom"}`))
	f.Add([]byte("SSH-2.0-OpenSSH banner\r\n"))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, byte(FrameJob)})
	f.Add(frame(FrameInit, `{"initializer":{"b64":"////"}}`))
	f.Add(frame(FrameJob, `{"id":3,"line":"wc -c a","transfer":["/h/./a"],"return":[{"b64":"YS5vdXQ="}],"cleanup":true}`))
	f.Add(append(append(frame(FrameFileHeader, `{"id":3,"index":0,"path":"/h/./a","mode":420,"size":5}`),
		frame(FrameFileData, "hello")...), frame(FrameFileEnd, `{"id":3,"index":0,"size":5}`)...))
	f.Add(frame(FrameFileEnd, `{"id":3,"index":0,"size":-1,"error":{"b64":"/w=="}}`))
	f.Add(frame(FrameFileHeader, `{"id":3,"index":"x","mode":-1}`))
	f.Add(append(frame(FrameFileHeader, `{"id":3,"index":0,"path":"a","size":5}`), 0, 0, 0, 9, byte(FrameFileData), 'x'))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatalf("more frames than bytes: the decoder does not advance")
			}
			typ, p, err := fr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("a fault that is not a protocol error: %v", err)
				}
				return
			}
			var v any
			switch typ {
			case FrameHello:
				v = &Hello{}
			case FrameError:
				v = &ErrorFrame{}
			case FrameInit:
				v = &InitFrame{}
			case FrameReady:
				v = &ReadyFrame{}
			case FrameJob:
				v = &JobFrame{}
			case FrameCancel, FrameKill:
				v = &JobRef{}
			case FrameStarted:
				v = &StartedFrame{}
			case FrameOutcome:
				v = &OutcomeFrame{}
			case FrameFileHeader:
				v = &FileHeader{}
			case FrameFileEnd:
				v = &FileEnd{}
			default:
				continue // raw output bytes
			}
			if err := Decode(typ, p, v); err != nil && !errors.Is(err, ErrProtocol) {
				t.Fatalf("decoding a %v frame: a fault that is not a protocol error: %v", typ, err)
			}
		}
	})
}
