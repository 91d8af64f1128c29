package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// A wait for another process's lock ends as soon as the context is done,
// with its cause, long before the lock's own timeout, and changes nothing.
func TestLockWaitEndsWithContext(t *testing.T) {
	o := vaulttest.Options(t)
	if _, err := vault.Create(o, vault.StoreKeyring); err != nil {
		t.Fatal(err)
	}
	held := flock.New(filepath.Join(o.Dir, "vault.lock"))
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatalf("take the lock: %v", err)
	}
	defer held.Unlock()
	stop := errors.New("stopped by the test")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	o.Context = ctx
	v, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Update(func(d *vault.Data) error {
		_, err := d.Add(vaulttest.Account("X", "y"), time.Unix(0, 0))
		return err
	})
	if !errors.Is(err, stop) || errors.Is(err, vault.ErrLocked) {
		t.Fatalf("Update while locked out, context done: %v; want the context's cause", err)
	}
	if err := v.SetPassphrase([]byte("a new passphrase")); !errors.Is(err, stop) {
		t.Fatalf("SetPassphrase while locked out, context done: %v", err)
	}
	held.Unlock()
	o.Context = nil
	if n := len(mustOpenOpts(t, o).Data().Accounts); n != 0 {
		t.Fatalf("the vault holds %d accounts after a cancelled Update", n)
	}
}

// Create says what is wrong with the folder before it asks anything of the
// keyring: a locked keyring must not hide a backup-only folder or a file
// given as the folder.
func TestCreateChecksFolderBeforeKeyring(t *testing.T) {
	k := vaulttest.NewKeyring()
	k.Err = vaulttest.ErrKeyringLocked
	backupOnly := t.TempDir()
	if err := os.WriteFile(filepath.Join(backupOnly, vault.BackupName), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "home")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, says string
	}{
		{backupOnly, "is missing but its previous version"},
		{file, "is a file, not a folder"},
	} {
		for _, kind := range []vault.StoreKind{vault.StoreAuto, vault.StoreKeyring} {
			_, err := vault.Create(vault.Options{Dir: tc.dir, Keyring: k}, kind)
			if err == nil || !strings.Contains(err.Error(), tc.says) || errors.Is(err, vault.ErrKeyringLocked) {
				t.Errorf("Create(%s, %q) with a locked keyring: %v; want %q", tc.dir, kind, err, tc.says)
			}
		}
		if err := vault.CanCreate(tc.dir); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("CanCreate(%s) = %v; want %q", tc.dir, err, tc.says)
		}
	}
	if err := vault.CanCreate(filepath.Join(t.TempDir(), "new")); err != nil {
		t.Errorf("CanCreate of a new folder: %v", err)
	}
}

func mustOpenOpts(t *testing.T, o vault.Options) *vault.Vault {
	t.Helper()
	v, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
