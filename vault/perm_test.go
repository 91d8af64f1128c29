//go:build !windows

package vault_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// Files with loose modes (copied in by hand, restored by a backup tool) are
// tightened by the next write, backup included; the user's folder is not.
func TestWriteTightensFileModes(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	if err := os.WriteFile(filepath.Join(v.Dir(), "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, m := range map[string]os.FileMode{v.Dir(): 0o755, v.Path(): 0o644, v.BackupPath(): 0o644} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{v.Path(), v.BackupPath()} {
		if m := mode(t, path); m != 0o600 {
			t.Errorf("%s has mode %v after a write, want 0600", filepath.Base(path), m)
		}
	}
	if m := mode(t, v.Dir()); m != 0o755 {
		t.Errorf("a write changed the mode of the user's folder to %v", m)
	}
}

func TestCreateFolderModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  os.FileMode
	}{
		{"missing", func(t *testing.T, dir string) {}, 0o700},
		{"empty", func(t *testing.T, dir string) { mkdir(t, dir, 0o755) }, 0o700},
		{"only a lock file", func(t *testing.T, dir string) {
			mkdir(t, dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "vault.lock"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, 0o700},
		{"the user's files", func(t *testing.T, dir string) {
			mkdir(t, dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, 0o755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := vaulttest.Options(t)
			o.Dir = filepath.Join(o.Dir, "sesame")
			tc.setup(t, o.Dir)
			v, err := vault.Create(o, vault.StoreKeyring)
			if err != nil {
				t.Fatal(err)
			}
			if m := mode(t, o.Dir); m != tc.want {
				t.Errorf("folder mode = %v, want %v", m, tc.want)
			}
			if m := mode(t, v.Path()); m != 0o600 {
				t.Errorf("vault mode = %v, want 0600", m)
			}
		})
	}
}

func mkdir(t *testing.T, dir string, m os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, m); err != nil { // whatever the umask
		t.Fatal(err)
	}
}
