package vault_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// onlyFiles fails unless dir holds exactly the vault, its backup and the
// lock file: no temporary file of any kind after a completed command.
func onlyFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"vault.lock", vault.FileName, vault.BackupName}; !slices.Equal(names, want) {
		t.Fatalf("the folder holds %v, want %v", names, want)
	}
}

// After a passphrase change the backup is a file of its own that only the
// new passphrase opens, and the next write replaces it with the previous
// version, leaving no stray file (it used to be a hard link to the vault,
// and the next write left vault.sesame.bak.tmp behind).
func TestBackupAfterPassphraseChange(t *testing.T) {
	v := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a"))
	dir := v.Dir()
	if err := v.SetPassphrase([]byte("new passphrase")); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, dir)
	vf, _ := os.Stat(v.Path())
	bf, _ := os.Stat(v.BackupPath())
	if os.SameFile(vf, bf) {
		t.Fatal("the backup is a hard link to the vault")
	}
	assertOpens(t, v.BackupPath(), "new passphrase", 1)
	assertRefused(t, v.BackupPath(), vaulttest.Passphrase)

	if _, err := v.Update(func(d *vault.Data) error {
		_, err := d.Add(vaulttest.Account("B", "b"), time.Unix(0, 0))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, dir)
	assertOpens(t, v.BackupPath(), "new passphrase", 1) // the previous version
	assertOpens(t, v.Path(), "new passphrase", 2)
}

// A backup left as a hard link to the vault (by an earlier Sesame) does not
// leave vault.sesame.bak.tmp behind at the next write.
func TestHardLinkedBackupLeavesNoTemp(t *testing.T) {
	v := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a"))
	if err := os.Remove(v.BackupPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.Link(v.Path(), v.BackupPath()); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	for _, name := range []string{"B", "C"} {
		if _, err := v.Update(func(d *vault.Data) error {
			_, err := d.Add(vaulttest.Account(name, "x"), time.Unix(0, 0))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		onlyFiles(t, v.Dir())
	}
	assertOpens(t, v.BackupPath(), vaulttest.Passphrase, 2)
}

// assertOpens opens the vault file at path (the vault or a copy of its
// backup) with passphrase and checks how many accounts it holds.
func assertOpens(t *testing.T, path, passphrase string, accounts int) {
	t.Helper()
	v, err := openCopy(t, readFile(t, path), vaulttest.NewKeyring(), passphrase)
	if err != nil {
		t.Fatalf("%s does not open with %q: %v", filepath.Base(path), passphrase, err)
	}
	if n := len(v.Data().Accounts); n != accounts {
		t.Fatalf("%s holds %d accounts, want %d", filepath.Base(path), n, accounts)
	}
}

func assertRefused(t *testing.T, path, passphrase string) {
	t.Helper()
	if _, err := openCopy(t, readFile(t, path), vaulttest.NewKeyring(), passphrase); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("%s with %q: %v, want ErrWrongPassphrase", filepath.Base(path), passphrase, err)
	}
}
