package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is matched when vault.sesame is not a regular file: a named
// pipe, a device, a socket or a folder put in its place.
var ErrNotRegular = errors.New(FileName + " is not a regular file")

// openRegular opens path for reading without blocking, and refuses it
// unless it is a regular file. A plain open of a named pipe waits for a
// writer forever, and reading a device never ends; O_NONBLOCK makes the open
// return at once, and fstat then says what was opened.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w (%s is %s): move it aside; %s in the same folder holds the previous version of the vault", ErrNotRegular, path, kindOf(st.Mode()), BackupName)
	}
	return f, st, nil
}

// kindOf names a file type for users.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
