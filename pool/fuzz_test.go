package pool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// frame builds the bytes of one frame, for the seed corpus.
func frame(typ frameType, payload string) []byte {
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
	f.Add(frame(frameHello, `{"protocol":1,"version":"dev","os":"linux","arch":"amd64","cpus":2,"hostname":"h"}`))
	f.Add(frame(frameJob, `{"seq":1,"argv":["echo","hi"]}`))
	f.Add(append(frame(frameStdout, "hello\n"), frame(frameOutcome, `{"seq":1,"exit_code":0}`)...))
	f.Add(frame(frameError, `{"message":"boom"}`))
	f.Add([]byte("SSH-2.0-OpenSSH banner\r\n"))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, byte(frameJob)})
	f.Add(frame(frameInit, `{"initializer":{"b64":"////"}}`))
	f.Add(frame(frameJob, `{"id":3,"line":"wc -c a","transfer":["/h/./a"],"return":[{"b64":"YS5vdXQ="}],"cleanup":true}`))
	f.Add(append(append(frame(frameFileHeader, `{"id":3,"index":0,"path":"/h/./a","mode":420,"size":5}`),
		frame(frameFileData, "hello")...), frame(frameFileEnd, `{"id":3,"index":0,"size":5}`)...))
	f.Add(frame(frameFileEnd, `{"id":3,"index":0,"size":-1,"error":{"b64":"/w=="}}`))
	f.Add(frame(frameFileHeader, `{"id":3,"index":"x","mode":-1}`))
	f.Add(append(frame(frameFileHeader, `{"id":3,"index":0,"path":"a","size":5}`), 0, 0, 0, 9, byte(frameFileData), 'x'))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatalf("more frames than bytes: the decoder does not advance")
			}
			typ, p, err := fr.next()
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
			case frameHello:
				v = &Hello{}
			case frameError:
				v = &errorFrame{}
			case frameInit:
				v = &initFrame{}
			case frameReady:
				v = &readyFrame{}
			case frameJob:
				v = &jobFrame{}
			case frameCancel, frameKill:
				v = &jobRef{}
			case frameStarted:
				v = &startedFrame{}
			case frameOutcome:
				v = &outcomeFrame{}
			case frameFileHeader:
				v = &fileHeader{}
			case frameFileEnd:
				v = &fileEnd{}
			default:
				continue // raw output bytes
			}
			if err := decode(typ, p, v); err != nil && !errors.Is(err, ErrProtocol) {
				t.Fatalf("decoding a %v frame: a fault that is not a protocol error: %v", typ, err)
			}
		}
	})
}
