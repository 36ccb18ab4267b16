package wire

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
)

// FeatureFiles is the Hello feature of a peer that speaks the file frames
// (FileHeader, FileData, FileEnd) and the Transfer, Return and Cleanup of
// a job.Spec.
const FeatureFiles = "files"

// FileChunk is the most bytes of a file one FileData frame carries: a
// file of any size crosses in chunks, and neither side holds more than one
// at a time.
const FileChunk = 1 << 20

// FileHeader is the payload of FrameFileHeader: a file of job ID follows,
// in FileData frames, up to a FileEnd.
type FileHeader struct {
	ID    uint64      // the job
	Index int         // its place in the job's Transfer list (runner → worker) or Return list (worker → runner)
	Path  string      // its name in that list
	Mode  fs.FileMode // its permission bits
	Size  int64       // its size when the sender opened it
}

// FileEnd is the payload of FrameFileEnd: the file of the last FileHeader
// is whole, Size bytes, or, when Error is not "", the sender gave it up
// (it could not read it, or the job was cancelled) and the receiver drops
// what it has of it.
type FileEnd struct {
	ID    uint64
	Index int
	Size  int64
	Error string
}

type (
	fileHeaderWire struct {
		ID    uint64 `json:"id"`
		Index int    `json:"index"`
		Path  wstr   `json:"path"`
		Mode  uint32 `json:"mode"`
		Size  int64  `json:"size"`
	}
	fileEndWire struct {
		ID    uint64 `json:"id"`
		Index int    `json:"index"`
		Size  int64  `json:"size"`
		Error wstr   `json:"error,omitempty"`
	}
)

// MarshalJSON encodes h with its path byte for byte.
func (h FileHeader) MarshalJSON() ([]byte, error) {
	return json.Marshal(fileHeaderWire{h.ID, h.Index, wstr(h.Path), uint32(h.Mode.Perm()), h.Size})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (h *FileHeader) UnmarshalJSON(p []byte) error {
	var w fileHeaderWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*h = FileHeader{w.ID, w.Index, string(w.Path), fs.FileMode(w.Mode).Perm(), w.Size}
	return nil
}

// MarshalJSON encodes e with its error byte for byte.
func (e FileEnd) MarshalJSON() ([]byte, error) {
	return json.Marshal(fileEndWire{e.ID, e.Index, e.Size, wstr(e.Error)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (e *FileEnd) UnmarshalJSON(p []byte) error {
	var w fileEndWire
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*e = FileEnd{w.ID, w.Index, w.Size, string(w.Error)}
	return nil
}

// SendFile sends the file f as hdr says: its header, its bytes in chunks
// of at most FileChunk, its end. Before each chunk it asks stop: an error
// gives the file up (a FileEnd with that error), as does an error reading
// f. It returns the bytes sent, the error it gave the file up with, and
// the error of writing a frame (the peer is gone).
func SendFile(fw *Writer, f *os.File, hdr FileHeader, stop func() error) (n int64, gaveUp, err error) {
	if err := fw.SendJSON(FrameFileHeader, hdr); err != nil {
		return 0, nil, err
	}
	buf := make([]byte, min(FileChunk, max(hdr.Size+1, 4<<10)))
	for {
		if gaveUp = stop(); gaveUp != nil {
			break
		}
		k, rerr := f.Read(buf)
		if k > 0 {
			if err := fw.Send(FrameFileData, buf[:k]); err != nil {
				return n, nil, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			gaveUp = rerr
			break
		}
	}
	end := FileEnd{ID: hdr.ID, Index: hdr.Index, Size: n}
	if gaveUp != nil {
		end.Error = gaveUp.Error()
	}
	return n, gaveUp, fw.SendJSON(FrameFileEnd, end)
}
