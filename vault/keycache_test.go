package vault_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// A kept key opens a passphrase vault without the passphrase, until it is
// forgotten; a passphrase change drops it; a kept key that no longer opens
// the file (changed in another session) is dropped and the passphrase is
// asked for again.
func TestKeptKey(t *testing.T) {
	o := vaulttest.Options(t)
	o.Passphrase = []byte(vaulttest.Passphrase)
	cache := vaulttest.NewKeyCache()
	o.KeyCache = cache
	v, err := vault.Create(o, vault.StorePassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 0 {
		t.Fatal("creating a vault kept its key: nothing is kept unless asked")
	}
	if _, err := v.Update(func(d *vault.Data) error {
		_, err := d.Add(vault.Account{Type: vault.TOTP, Issuer: "Box", Name: "ops", Secret: []byte("12345678901234567890")}, time.Unix(1700000000, 0))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	bare := o
	bare.Passphrase = nil
	if _, err := vault.Open(bare); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("open without a passphrase before KeepKey: %v", err)
	}
	if err := v.KeepKey(500 * time.Millisecond); err == nil {
		t.Fatal("KeepKey accepted less than a second")
	}
	if err := v.KeepKey(15 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 1 {
		t.Fatalf("%d keys kept, want 1", cache.Len())
	}
	for _, ttl := range cache.TTLs {
		if ttl != 15*time.Minute {
			t.Fatalf("kept for %s, want 15m", ttl)
		}
	}
	w, err := vault.Open(bare)
	if err != nil || len(w.Data().Accounts) != 1 {
		t.Fatalf("open with the kept key: %v", err)
	}
	// The handle opened from the kept key writes like any other.
	if _, err := w.Update(func(d *vault.Data) error { d.Accounts[0].Name = "root"; return nil }); err != nil {
		t.Fatal(err)
	}

	if removed, err := vault.ForgetKey(bare); err != nil || !removed {
		t.Fatalf("ForgetKey: %v, %v", removed, err)
	}
	if removed, err := vault.ForgetKey(bare); err != nil || removed {
		t.Fatalf("ForgetKey again: %v, %v; want nothing removed", removed, err)
	}
	if _, err := vault.Open(bare); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("open after ForgetKey: %v", err)
	}

	// A passphrase change drops the kept key.
	if err := w.KeepKey(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := w.SetPassphrase([]byte("a new passphrase")); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 0 {
		t.Fatal("the kept key survived a passphrase change")
	}
	if _, err := vault.Open(bare); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("open after the passphrase change: %v", err)
	}

	// A key kept in another session before the change there: it opens
	// nothing, so it is dropped and the passphrase is needed.
	o.Passphrase = []byte("a new passphrase")
	x, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.KeepKey(time.Minute); err != nil {
		t.Fatal(err)
	}
	old, _ := age.GenerateX25519Identity()
	cache.Replace([]byte(old.String()))
	if _, err := vault.Open(bare); !errors.Is(err, vault.ErrPassphraseRequired) {
		t.Fatalf("open with a stale kept key: %v, want ErrPassphraseRequired", err)
	}
	if cache.Len() != 0 {
		t.Fatal("a stale kept key was not dropped")
	}
	// A key cache that fails does not stop the passphrase from working.
	cache.Err = errors.New("the cache is broken")
	if _, err := vault.Open(o); err != nil {
		t.Fatalf("open with the passphrase and a broken cache: %v", err)
	}
	if err := vault.CheckKeyCache(o); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("CheckKeyCache with a broken cache: %v", err)
	}
}

// Keyring vaults open without a passphrase already: there is nothing to keep.
func TestKeepKeyOfKeyringVault(t *testing.T) {
	o := vaulttest.Options(t)
	o.KeyCache = vaulttest.NewKeyCache()
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.KeepKey(time.Minute); err == nil || !strings.Contains(err.Error(), "nothing to unlock") {
		t.Fatalf("KeepKey of a keyring vault: %v", err)
	}
	if err := vault.CheckKeyCache(vault.Options{Dir: o.Dir}); !errors.Is(err, vault.ErrKeyCacheUnavailable) {
		t.Fatalf("CheckKeyCache without a cache: %v", err)
	}
}
