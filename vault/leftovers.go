package vault

// Copies of a vault left in its folder (the backup, temporary files of
// interrupted writes), and what they mean for Create and Open.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// folderIsNew reports whether dir is missing or holds nothing but a lock file.
func folderIsNew(dir string) bool {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != lockName {
			return false
		}
	}
	return true
}

// checkNew returns why a new vault cannot be made in dir: dir is a file, a
// vault is there already, or copies of one are.
func checkNew(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("the vault folder %s is a file, not a folder: set SESAME_HOME to a folder, or move the file away", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, FileName)); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	if names := leftovers(dir); len(names) > 0 {
		return &backupOnlyError{dir: dir, names: names}
	}
	return nil
}

// tempPrefix starts the names of the temporary files of vault writes.
const tempPrefix = "." + FileName + ".tmp-"

// leftovers lists the copies of a vault in dir: its backup, a backup being
// made, and temporary files of writes that were interrupted.
func leftovers(dir string) []string {
	var names []string
	for _, n := range []string{BackupName, BackupName + ".tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			names = append(names, n)
		}
	}
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, p := range temps {
		names = append(names, filepath.Base(p))
	}
	return names
}

// backupOnlyError says that the vault file is missing but copies of it are
// in its folder, and how to restore it.
type backupOnlyError struct {
	dir   string
	names []string // leftovers(dir), backups first
	open  bool     // from Open: matches ErrNoVault too
}

func (e *backupOnlyError) Error() string {
	if n := e.names[0]; n == BackupName || n == BackupName+".tmp" {
		return fmt.Sprintf("%s is missing but its previous version %s is in %s: copy it to %s to restore it, or move it away to start a new vault", FileName, n, e.dir, FileName)
	}
	return fmt.Sprintf("%s is missing but %s holds copies of a vault left by interrupted saves (%s): rename the newest to %s to try to restore it, or move them away to start a new vault", FileName, e.dir, strings.Join(e.names, ", "), FileName)
}

// Is matches ErrBackupOnly, and ErrNoVault for Open's error.
func (e *backupOnlyError) Is(target error) bool {
	return target == ErrBackupOnly || (e.open && target == ErrNoVault)
}

// removeStaleTemps removes the temporary files of interrupted vault writes
// from dir. The file lock must be held. A file that cannot be removed is left
// for the next write: it does not stop this one.
func removeStaleTemps(dir string) {
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, p := range temps {
		_ = os.Remove(p)
	}
}
