package vault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// openCopy opens a copy of file, placed as the vault of a new folder.
func openCopy(t *testing.T, file []byte, k vault.Keyring, passphrase string) (*vault.Vault, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, vault.FileName), file, 0o600); err != nil {
		t.Fatal(err)
	}
	var p []byte
	if passphrase != "" {
		p = []byte(passphrase)
	}
	return vault.Open(vault.Options{Dir: dir, Keyring: k, Passphrase: p})
}

// withWrappedKey returns file with its wrapped_key replaced by from's.
func withWrappedKey(t *testing.T, file, from []byte) []byte {
	t.Helper()
	var src struct {
		WrappedKey []byte `json:"wrapped_key"`
	}
	if err := json.Unmarshal(from, &src); err != nil {
		t.Fatal(err)
	}
	if src.WrappedKey == nil {
		return withHeader(t, file, "wrapped_key", nil)
	}
	return withHeader(t, file, "wrapped_key", src.WrappedKey)
}

func TestSetPassphraseRotatesKey(t *testing.T) {
	v := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a")) // two writes: the backup exists
	old := readFile(t, v.Path())
	if err := v.SetPassphrase([]byte("new one")); err != nil {
		t.Fatal(err)
	}
	cur, bak := readFile(t, v.Path()), readFile(t, v.BackupPath())
	for name, file := range map[string][]byte{"vault": cur, "backup": bak} {
		if _, err := openCopy(t, file, vaulttest.NewKeyring(), vaulttest.Passphrase); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Errorf("%s with the old passphrase: %v, want ErrWrongPassphrase", name, err)
		}
		w, err := openCopy(t, file, vaulttest.NewKeyring(), "new one")
		if err != nil || len(w.Data().Accounts) != 1 {
			t.Errorf("%s with the new passphrase: %v", name, err)
		}
	}
	// The old wrapped key holds the old vault key, which opens nothing new.
	if _, err := openCopy(t, withWrappedKey(t, cur, old), vaulttest.NewKeyring(), vaulttest.Passphrase); err == nil {
		t.Fatal("the old vault key still decrypts the new version")
	}
	assertNoTempFiles(t, v.Dir())
	// The handle goes on working with the new key.
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	if w, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: vaulttest.NewKeyring(), Passphrase: []byte("new one")}); err != nil || len(w.Data().Accounts) != 2 {
		t.Fatalf("reopen after the change: %v", err)
	}
}

func TestRecoveryPassphraseRotatesKey(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	kr := v.Keyring().(*vaulttest.Keyring)
	o := vault.Options{Dir: v.Dir(), Keyring: kr}
	if err := v.SetPassphrase([]byte("recovery one")); err != nil {
		t.Fatal(err)
	}
	withR1 := readFile(t, v.Path())
	if _, err := openCopy(t, withR1, vaulttest.NewKeyring(), "recovery one"); err != nil {
		t.Fatalf("recovery one does not open the vault it protects: %v", err)
	}

	// Change the recovery passphrase.
	if err := v.SetPassphrase([]byte("recovery two")); err != nil {
		t.Fatal(err)
	}
	if n := kr.Len(); n != 1 {
		t.Fatalf("the keyring holds %d items after the change, want 1", n)
	}
	if keyringIDOf(t, withR1) == keyringIDOf(t, readFile(t, v.Path())) {
		t.Fatal("the new key is stored under the old keyring item")
	}
	kr.Calls = 0
	if _, err := vault.Open(o); err != nil || kr.Calls != 1 {
		t.Fatalf("open from the keyring after the change: %v (%d keyring calls)", err, kr.Calls)
	}
	cur, bak := readFile(t, v.Path()), readFile(t, v.BackupPath())
	for name, file := range map[string][]byte{"vault": cur, "backup": bak} {
		if _, err := openCopy(t, file, vaulttest.NewKeyring(), "recovery one"); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Errorf("%s with the old recovery passphrase: %v, want ErrWrongPassphrase", name, err)
		}
		if _, err := openCopy(t, file, vaulttest.NewKeyring(), "recovery two"); err != nil {
			t.Errorf("%s with the new recovery passphrase: %v", name, err)
		}
	}
	if _, err := openCopy(t, withWrappedKey(t, cur, withR1), vaulttest.NewKeyring(), "recovery one"); err == nil {
		t.Fatal("the old vault key still decrypts the new version")
	}

	// Remove it: no passphrase opens the vault or its backup any more.
	if err := v.SetPassphrase(nil); err != nil {
		t.Fatal(err)
	}
	if v.HasRecovery() || kr.Len() != 1 {
		t.Fatalf("after removing: recovery %v, %d keyring items; want none and 1", v.HasRecovery(), kr.Len())
	}
	for name, file := range map[string][]byte{"vault": readFile(t, v.Path()), "backup": readFile(t, v.BackupPath())} {
		if _, err := openCopy(t, file, vaulttest.NewKeyring(), "recovery two"); !errors.Is(err, vault.ErrKeyMissing) {
			t.Errorf("%s with the removed recovery passphrase: %v, want ErrKeyMissing", name, err)
		}
		if _, err := openCopy(t, file, kr, ""); err != nil {
			t.Errorf("%s from the keyring: %v", name, err)
		}
	}

	// RestoreKeyring still works: recover with a new passphrase into an empty keyring.
	if err := v.SetPassphrase([]byte("recovery three")); err != nil {
		t.Fatal(err)
	}
	lost := vaulttest.NewKeyring()
	w, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: lost, Passphrase: []byte("recovery three")})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RestoreKeyring(); err != nil {
		t.Fatal(err)
	}
	if w, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: lost}); err != nil || len(w.Data().Accounts) != 1 {
		t.Fatalf("open after RestoreKeyring: %v", err)
	}
}

// Another handle (the TUI while the CLI changes the passphrase) follows a
// keyring vault's new key, and a passphrase vault's handle says what happened.
func TestOtherHandleAfterRotation(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	w, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetPassphrase([]byte("recovery")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatalf("update through the other handle: %v", err)
	}
	if d, changed, err := v.Reload(); err != nil || !changed || len(d.Accounts) != 2 {
		t.Fatalf("reload: %v, changed %v", err, changed)
	}

	p := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a"))
	q, err := vault.Open(vault.Options{Dir: p.Dir(), Keyring: vaulttest.NewKeyring(), Passphrase: []byte(vaulttest.Passphrase)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetPassphrase([]byte("new one")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, p.Path())
	if _, err := q.Update(func(d *vault.Data) error { d.Accounts = nil; return nil }); !errors.Is(err, vault.ErrPassphraseChanged) {
		t.Fatalf("update through a handle with the old key: %v, want ErrPassphraseChanged", err)
	}
	if !bytes.Equal(before, readFile(t, p.Path())) {
		t.Fatal("a failed update changed the file")
	}
}

// hookKeyring runs a hook after each successful Set, and can fail Delete.
type hookKeyring struct {
	*vaulttest.Keyring
	afterSet  func()
	deleteErr error
}

func (k *hookKeyring) Set(service, user, secret string) error {
	if err := k.Keyring.Set(service, user, secret); err != nil {
		return err
	}
	if k.afterSet != nil {
		k.afterSet()
	}
	return nil
}

func (k *hookKeyring) Delete(service, user string) error {
	if k.deleteErr != nil {
		return k.deleteErr
	}
	return k.Keyring.Delete(service, user)
}

// A write that fails after the new key went into the keyring leaves the old
// vault opening with the old key and the old recovery passphrase, and takes
// the new keyring item back out.
func TestSetPassphraseWriteFailure(t *testing.T) {
	kr := &hookKeyring{Keyring: vaulttest.NewKeyring()}
	o := vaulttest.Options(t)
	o.Dir = filepath.Join(o.Dir, "sesame")
	o.Keyring = kr
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("A", "a"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	if err := v.SetPassphrase([]byte("recovery one")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, v.Path())

	// After the keyring Set, the folder becomes a file (this works as root
	// too, unlike a read-only folder): every write into it fails.
	away, moved := o.Dir+".away", false
	kr.afterSet = func() {
		moved = true
		if err := os.Rename(o.Dir, away); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(o.Dir, nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	err = v.SetPassphrase([]byte("recovery two"))
	kr.afterSet = nil
	if !moved {
		t.Fatalf("SetPassphrase stored no new key in the keyring (err %v)", err)
	}
	if rerr := os.Remove(o.Dir); rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := os.Rename(away, o.Dir); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("SetPassphrase with a failing write: %v, want an error saying nothing was changed", err)
	}
	if !bytes.Equal(before, readFile(t, v.Path())) {
		t.Fatal("the failed change altered the vault file")
	}
	if n := kr.Len(); n != 1 {
		t.Fatalf("the keyring holds %d items after the failed change, want the old one", n)
	}
	if w, err := vault.Open(o); err != nil || len(w.Data().Accounts) != 1 {
		t.Fatalf("the vault does not open from the keyring after the failed change: %v", err)
	}
	if _, err := openCopy(t, before, vaulttest.NewKeyring(), "recovery one"); err != nil {
		t.Fatalf("the old recovery passphrase no longer opens the vault: %v", err)
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatalf("the handle is unusable after the failed change: %v", err)
	}

	// A crash after the file is written but before the old item is deleted
	// (here: the delete fails) leaves a vault that opens with the new key.
	kr.deleteErr = errors.New("keyring went away")
	err = v.SetPassphrase([]byte("recovery two"))
	if err == nil || !strings.Contains(err.Error(), "the passphrase was changed") {
		t.Fatalf("SetPassphrase with a failing delete: %v", err)
	}
	kr.deleteErr = nil
	if kr.Len() != 2 {
		t.Fatalf("the keyring holds %d items, want the old and the new", kr.Len())
	}
	if w, err := vault.Open(o); err != nil || len(w.Data().Accounts) != 2 {
		t.Fatalf("the vault does not open after the change: %v", err)
	}
}

func keyringIDOf(t *testing.T, file []byte) string {
	t.Helper()
	var env struct {
		KeyringID string `json:"keyring_id"`
	}
	if err := json.Unmarshal(file, &env); err != nil || env.KeyringID == "" {
		t.Fatalf("no keyring_id in the vault file: %v", err)
	}
	return env.KeyringID
}
