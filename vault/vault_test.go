package vault_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

var vaultNow = time.Unix(1700000000, 0)

func TestCreateOpenKeyring(t *testing.T) {
	o := vaulttest.Options(t)
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if v.Store() != vault.StoreKeyring || v.HasRecovery() {
		t.Fatalf("store = %s, recovery = %v; want keyring without recovery", v.Store(), v.HasRecovery())
	}
	acct := vaulttest.Account("Example", "alice")
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(acct, vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	kr := o.Keyring.(*vaulttest.Keyring)
	kr.Calls = 0
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Calls != 1 {
		t.Errorf("opening made %d keyring calls, want 1", kr.Calls)
	}
	got := w.Data().Accounts
	if len(got) != 1 || !got[0].SameAs(&acct) {
		t.Fatalf("reopened accounts = %+v", got)
	}
	if _, err := vault.Create(o, vault.StoreKeyring); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
}

func TestAutoStoreFallsBackToPassphrase(t *testing.T) {
	o := vaulttest.Options(t)
	kr := o.Keyring.(*vaulttest.Keyring)
	kr.Err = vaulttest.ErrNoKeyring
	if err := vault.ProbeKeyring(kr); err == nil || errors.Is(err, vault.ErrKeyringLocked) {
		t.Fatalf("probe of an absent keyring: %v, want an error that is not ErrKeyringLocked", err)
	}
	if _, err := vault.Create(o, vault.StoreAuto); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("auto without keyring or passphrase: %v, want ErrPassphraseRequired", err)
	}
	o.Passphrase = []byte("pw")
	v, err := vault.Create(o, vault.StoreAuto)
	if err != nil {
		t.Fatal(err)
	}
	if v.Store() != vault.StorePassphrase {
		t.Fatalf("store = %s, want passphrase", v.Store())
	}
	kr.Err = nil
	o2 := vaulttest.Options(t)
	w, err := vault.Create(o2, vault.StoreAuto)
	if err != nil || w.Store() != vault.StoreKeyring {
		t.Fatalf("auto with a working keyring: %v, store %v", err, w)
	}
	if n := o2.Keyring.(*vaulttest.Keyring).Len(); n != 1 {
		t.Fatalf("keyring holds %d items after the probe, want just the vault key", n)
	}
}

// A locked keyring is not an absent one: creating with StoreAuto fails and
// says to unlock it, instead of quietly making a passphrase vault.
func TestAutoStoreLockedKeyring(t *testing.T) {
	o := vaulttest.Options(t)
	o.Dir = filepath.Join(o.Dir, "sesame")
	o.Passphrase = []byte("pw")
	kr := o.Keyring.(*vaulttest.Keyring)
	kr.Err = vaulttest.ErrKeyringLocked
	if err := vault.ProbeKeyring(kr); !errors.Is(err, vault.ErrKeyringLocked) {
		t.Fatalf("probe of a locked keyring: %v, want ErrKeyringLocked", err)
	}
	_, err := vault.Create(o, vault.StoreAuto)
	if !errors.Is(err, vault.ErrKeyringLocked) || !strings.Contains(err.Error(), "unlock it") {
		t.Fatalf("auto with a locked keyring: %v, want ErrKeyringLocked", err)
	}
	if _, err := os.Stat(o.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed Create left the folder behind: %v", err)
	}
	// Choosing the passphrase store still works.
	if v, err := vault.Create(o, vault.StorePassphrase); err != nil || v.Store() != vault.StorePassphrase {
		t.Fatalf("passphrase store with a locked keyring: %v", err)
	}
}

func TestPassphraseVault(t *testing.T) {
	v := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a"))
	o := vault.Options{Dir: v.Dir(), Keyring: vaulttest.NewKeyring(), ScryptWorkFactor: 10}
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("open without passphrase: %v", err)
	}
	before := readFile(t, v.Path())
	o.Passphrase = []byte("wrong")
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("open with wrong passphrase: %v", err)
	}
	if !bytes.Equal(before, readFile(t, v.Path())) {
		t.Fatal("a failed open changed the file")
	}
	o.Passphrase = []byte(vaulttest.Passphrase)
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetPassphrase([]byte("new one")); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("old passphrase after change: %v", err)
	}
	o.Passphrase = []byte("new one")
	if w, err = vault.Open(o); err != nil || len(w.Data().Accounts) != 1 {
		t.Fatalf("new passphrase: %v", err)
	}
	if err := w.SetPassphrase(nil); err == nil {
		t.Fatal("removing the only passphrase of a passphrase vault succeeded")
	}
}

func TestRecoveryPassphrase(t *testing.T) {
	o := vaulttest.Options(t)
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("A", "a"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	kr := o.Keyring.(*vaulttest.Keyring)
	// Lose the keyring item without a recovery passphrase.
	lost := vaulttest.NewKeyring()
	o.Keyring = lost
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrKeyMissing) || !strings.Contains(err.Error(), "no recovery passphrase") {
		t.Fatalf("lost key without recovery: %v", err)
	}
	o.Keyring = kr
	if err := v.SetPassphrase([]byte("recovery words")); err != nil {
		t.Fatal(err)
	}
	if !v.HasRecovery() {
		t.Fatal("HasRecovery is false after setting one")
	}
	o.Keyring = lost
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrKeyMissing) {
		t.Fatalf("lost key, no passphrase given: %v", err)
	}
	o.Passphrase = []byte("wrong")
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("lost key, wrong recovery passphrase: %v", err)
	}
	o.Passphrase = []byte("recovery words")
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Data().Accounts) != 1 {
		t.Fatal("recovered vault lost its account")
	}
	if err := w.RestoreKeyring(); err != nil {
		t.Fatal(err)
	}
	o.Passphrase = nil
	if _, err := vault.Open(o); err != nil {
		t.Fatalf("open after restoring the keyring item: %v", err)
	}
}

func TestKeyringLocked(t *testing.T) {
	o := vaulttest.Options(t)
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, v.Path())
	o.Keyring.(*vaulttest.Keyring).Err = vaulttest.ErrKeyringLocked
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrKeyringUnavailable) {
		t.Fatalf("locked keyring: %v, want ErrKeyringUnavailable", err)
	}
	if !bytes.Equal(before, readFile(t, v.Path())) {
		t.Fatal("a failed open changed the file")
	}
}

func TestCorruptVault(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	good := readFile(t, v.Path())
	o := vault.Options{Dir: v.Dir(), Keyring: keyringOf(t, v)}
	cases := map[string][]byte{
		"truncated":    good[:len(good)/2],
		"empty":        {},
		"not json":     []byte("hello"),
		"other format": []byte(`{"format":"x","version":1}`),
		"flipped data": flipDataByte(t, good),
		"no store":     bytes.Replace(good, []byte(`"store":"keyring"`), []byte(`"store":"x"`), 1),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(v.Path(), b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := vault.Open(o)
			if !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), vault.BackupName) {
				t.Errorf("error does not point at the backup: %v", err)
			}
			if !bytes.Equal(b, readFile(t, v.Path())) {
				t.Fatal("a failed open changed the file")
			}
		})
	}
	// The backup holds the previous version: one account.
	if err := os.WriteFile(v.Path(), readFile(t, v.BackupPath()), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.Data().Accounts); n != 1 {
		t.Fatalf("backup holds %d accounts, want the previous version's 1", n)
	}
}

func TestUpdateFailureWritesNothing(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	before := readFile(t, v.Path())
	boom := errors.New("boom")
	if _, err := v.Update(func(d *vault.Data) error { d.Accounts = nil; return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if !bytes.Equal(before, readFile(t, v.Path())) || len(v.Data().Accounts) != 1 {
		t.Fatal("a failed update changed the vault")
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("A", "a"), vaultNow); return err }); !errors.Is(err, vault.ErrDuplicate) {
		t.Fatalf("duplicate add: %v", err)
	}
}

// Two handles on one vault, as the TUI and a CLI command would have: neither
// loses the other's changes, and Reload sees them.
func TestConcurrentWriters(t *testing.T) {
	v := vaulttest.New(t)
	o := vault.Options{Dir: v.Dir(), Keyring: keyringOf(t, v)}
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i, h := range []*vault.Vault{v, w} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				acct := vaulttest.Account("Issuer", string(rune('a'+i))+strings.Repeat("x", j))
				if _, err := h.Update(func(d *vault.Data) error { _, err := d.Add(acct, vaultNow); return err }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d, changed, err := v.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Accounts) != 2*n {
		t.Fatalf("after concurrent writes: %d accounts, want %d (changed=%v)", len(d.Accounts), 2*n, changed)
	}
	if _, changed, _ := v.Reload(); changed {
		t.Fatal("Reload reports a change when there was none")
	}
}

func TestNextHOTPSavesCounterFirst(t *testing.T) {
	acct := vaulttest.Account("H", "h")
	acct.Type, acct.Counter = vault.HOTP, 0
	v := vaulttest.New(t, acct)
	stored := v.Data().Accounts[0]
	id := stored.ID
	var codes []string
	for range 3 {
		c, err := v.NextHOTP(id)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c.Value)
	}
	// RFC 4226 is for another key; check against the account's own code at each counter instead.
	for i, want := range codes {
		a := stored
		a.Counter = uint64(i)
		c, err := a.Code(vaultNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.Value != want {
			t.Fatalf("code %d = %s, want %s", i, want, c.Value)
		}
	}
	w, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: keyringOf(t, v)})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Data().Accounts[0].Counter; got != 3 {
		t.Fatalf("saved counter = %d, want 3", got)
	}
}

func TestFilePermissionsAndNoCleartext(t *testing.T) {
	acct := vaulttest.Account("VerySecretBank", "hidden-user@example.com")
	acct.Secret = []byte("0123456789abcdef0123")
	o := vaulttest.Options(t)
	o.Dir = filepath.Join(o.Dir, "new")
	o.Passphrase = []byte("pw")
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetPassphrase([]byte("recovery")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second write makes a backup
		if _, err := v.Update(func(d *vault.Data) error { d.Add(acct, vaultNow); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(o.Dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	needles := secretForms(acct.Secret)
	needles = append(needles, []byte(acct.Issuer), []byte(acct.Name))
	assertNoCleartext(t, o.Dir, needles)
}

// secretForms is every way a secret could be written out: raw, base32 in
// both cases with and without padding.
func secretForms(s []byte) [][]byte {
	b32 := base32.StdEncoding.EncodeToString(s)
	nopad := strings.TrimRight(b32, "=")
	return [][]byte{s, []byte(b32), []byte(nopad), []byte(strings.ToLower(nopad))}
}

func assertNoCleartext(t *testing.T, dir string, needles [][]byte) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		n++
		if info, err := e.Info(); err != nil || (runtime.GOOS != "windows" && info.Mode().Perm() != 0o600) {
			t.Errorf("%s has mode %v (%v), want 0600", path, info.Mode().Perm(), err)
		}
		b := readFile(t, path)
		for _, s := range needles {
			if bytes.Contains(b, s) {
				t.Errorf("%s contains %q in clear", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("found %d files under %s; want the vault and its backup", n, dir)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyringOf digs the in-memory keyring out of a vault made by vaulttest: it
// is the only one holding the vault's key.
func keyringOf(t *testing.T, v *vault.Vault) vault.Keyring {
	t.Helper()
	return v.Keyring()
}

func flipDataByte(t *testing.T, good []byte) []byte {
	t.Helper()
	i := bytes.Index(good, []byte(`"data":"`))
	if i < 0 {
		t.Fatal("no data field")
	}
	b := bytes.Clone(good)
	j := i + len(`"data":"`) + 200
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	return b
}

// An update that changes nothing writes nothing, so the backup keeps the
// real previous version.
func TestNoOpUpdateWritesNothing(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("B", "b"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	file, bak := readFile(t, v.Path()), readFile(t, v.BackupPath())
	if _, err := v.Update(func(d *vault.Data) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, readFile(t, v.Path())) || !bytes.Equal(bak, readFile(t, v.BackupPath())) {
		t.Fatal("a no-op update rewrote the vault or its backup")
	}
}
