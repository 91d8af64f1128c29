package vault

// Atomic writes: temporary file, fsync, rename, folder fsync, and the backup.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile writes data to path atomically with mode 0600: a temporary
// file in the same folder is written and synced, renamed over path, and the
// folder is synced. Readers see the old file or the new one, never a part.
func WriteFile(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new synced 0600 file beside name in dir and
// returns its path.
func writeTemp(dir, name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(0o600)
	if runtime.GOOS == "windows" {
		err = nil // Windows has no Unix modes; the folder's ACL protects the file
	}
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// atomicWrite replaces dir/name with b like WriteFile, keeping the
// previous file as dir/backup, or with fresh a copy of the new one. placed
// reports whether the new file was renamed into place.
//
// With fresh (a new vault key), the backup becomes the new version before
// the vault file does, and the folder is synced in between: a kill at any
// point leaves the old vault with the old or the new backup, or the new
// vault with the new backup, never the new vault beside a backup that the
// old key opens. The backup is a file of its own, not a link to the vault:
// the next write's backup link then replaces it, where a rename between two
// names of one file would do nothing.
func atomicWrite(dir, name, backup string, b []byte, fresh bool) (placed bool, err error) {
	tmp, err := writeTemp(dir, name, b)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp) // a no-op once renamed
	path := filepath.Join(dir, name)
	if fresh {
		if err := freshBackup(dir, name, filepath.Join(dir, backup), b); err != nil {
			return false, err
		}
	} else if _, err := os.Stat(path); err == nil {
		if err := keepBackup(path, filepath.Join(dir, backup)); err != nil {
			return false, err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		if fresh {
			// The old vault stays: so does a backup that its key opens, and
			// the caller may drop the new key.
			_ = keepBackup(path, filepath.Join(dir, backup))
		}
		return false, err
	}
	return true, syncDir(dir)
}

// freshBackup writes b as the backup bak (through a temporary file named
// like the vault's, which interrupted writes' clean-up removes) and syncs
// the folder, so that the backup is in place before the vault file changes.
func freshBackup(dir, name, bak string, b []byte) error {
	tmp, err := writeTemp(dir, name, b)
	if err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := os.Rename(tmp, bak); err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	return nil
}

// keepBackup makes bak a hard link to (or a copy of) path. The link is made
// under a temporary name and renamed, so the backup too is always whole. The
// file is made 0600 first (it may have been copied in with a looser mode),
// or copied to a new 0600 file if that fails.
//
// A backup that already is the vault file (a hard link that earlier
// versions of Sesame left after a passphrase change) is left as it is: a
// rename between two names of one file does nothing and would leave the
// temporary name behind.
func keepBackup(path, bak string) error {
	bakTmp := bak + ".tmp"
	_ = os.Remove(bakTmp)
	if p, err := os.Stat(path); err == nil {
		if b, err := os.Stat(bak); err == nil && os.SameFile(p, b) {
			return nil
		}
	}
	err := os.Chmod(path, 0o600)
	if runtime.GOOS == "windows" {
		err = nil // no Unix modes: the folder's ACL protects the file
	}
	if err == nil {
		err = os.Link(path, bakTmp)
	}
	if err != nil {
		if err := copyFile(path, bakTmp); err != nil {
			return fmt.Errorf("keep a backup: %w", err)
		}
	}
	if err := os.Rename(bakTmp, bak); err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // Windows cannot fsync a folder; NTFS journals the rename
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
