//go:build !linux

package input

import (
	"errors"
	"os"
)

// reopenStdin fails: opening /dev/fd/0 on the BSDs and macOS duplicates the
// descriptor shared with other processes instead of opening the file
// anew, so stdin is read through a selectReader.
func reopenStdin() (*os.File, error) { return nil, errors.ErrUnsupported }
