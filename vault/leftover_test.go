package vault_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// The README's repair advice ("move the damaged file aside and copy the
// backup in its place") passes through a folder that holds only the backup.
// Create must not start a new vault there, whose next write would replace
// the only good copy, and Open must say how to restore it rather than
// suggest 'sesame add'. Neither may change anything on disk.
func TestBackupOnlyFolder(t *testing.T) {
	for _, leftover := range []string{vault.BackupName, vault.BackupName + ".tmp", "." + vault.FileName + ".tmp-123"} {
		t.Run(leftover, func(t *testing.T) {
			v := vaulttest.New(t, vaulttest.Account("A", "a"))
			if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
				t.Fatal(err)
			}
			// A folder with nothing but a copy of the vault under the leftover's name.
			o := vault.Options{Dir: filepath.Join(t.TempDir(), "sesame"), Keyring: v.Keyring(), ScryptWorkFactor: 10}
			if err := os.Mkdir(o.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(o.Dir, leftover), readFile(t, v.BackupPath()), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, o.Dir)

			_, err := vault.Open(o)
			if !errors.Is(err, vault.ErrNoVault) || !errors.Is(err, vault.ErrBackupOnly) {
				t.Fatalf("open: %v, want ErrNoVault and ErrBackupOnly", err)
			}
			if strings.Contains(err.Error(), "sesame add") || !strings.Contains(err.Error(), leftover) || !strings.Contains(err.Error(), o.Dir) {
				t.Errorf("open error does not name the leftover and its folder, or steers to 'sesame add': %v", err)
			}
			for _, kind := range []vault.StoreKind{vault.StoreKeyring, vault.StoreAuto} {
				_, err := vault.Create(o, kind)
				if !errors.Is(err, vault.ErrBackupOnly) {
					t.Fatalf("create (%q): %v, want ErrBackupOnly", kind, err)
				}
				if !strings.Contains(err.Error(), leftover) || !strings.Contains(err.Error(), "move it away to start a new vault") && !strings.Contains(err.Error(), "move them away to start a new vault") {
					t.Errorf("create error does not say what to do: %v", err)
				}
			}
			if after := snapshot(t, o.Dir); after != before {
				t.Fatalf("the folder changed:\nbefore %s\nafter  %s", before, after)
			}
			// Following the advice restores the vault.
			if leftover == vault.BackupName {
				if err := os.WriteFile(filepath.Join(o.Dir, vault.FileName), readFile(t, filepath.Join(o.Dir, leftover)), 0o600); err != nil {
					t.Fatal(err)
				}
				w, err := vault.Open(o)
				if err != nil || len(w.Data().Accounts) != 1 {
					t.Fatalf("restored backup: %v", err)
				}
			}
		})
	}
}

func TestCreateInEmptyFolder(t *testing.T) {
	o := vaulttest.Options(t)
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrNoVault) || errors.Is(err, vault.ErrBackupOnly) || !strings.Contains(err.Error(), "sesame add") {
		t.Fatalf("open an empty folder: %v, want plain ErrNoVault", err)
	}
	if _, err := vault.Create(o, vault.StoreKeyring); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists a folder's entries with their modes and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		b.WriteString(path + " " + info.Mode().String())
		if !e.IsDir() {
			b.WriteString(" " + string(readFile(t, path)))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Writes killed mid-way leave temporary files, each a whole encrypted copy
// of an old vault. The next write, holding the lock, removes them.
func TestStaleTempFilesRemoved(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	stale := filepath.Join(v.Dir(), "."+vault.FileName+".tmp-4242")
	if err := os.WriteFile(stale, readFile(t, v.Path()), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(v.Dir(), "notes.txt") // not the vault's: left alone
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	assertNoTempFiles(t, v.Dir())
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file that is not the vault's was touched: %v", err)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, "."+vault.FileName+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("temporary files remain after a write: %v", left)
	}
}
