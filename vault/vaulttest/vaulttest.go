// Package vaulttest provides fakes and helpers for tests that need a vault:
// an in-memory keyring and ready-made vaults in temporary folders.
package vaulttest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// Keyring is an in-memory vault.Keyring. Set Err to make every call fail,
// as an absent (ErrNoKeyring) or locked (ErrKeyringLocked) keyring would.
type Keyring struct {
	mu    sync.Mutex
	items map[string]string
	// Err, when set, is returned by every call.
	Err error
	// Calls counts the calls made, to check that opening costs one keyring call.
	Calls int
}

// NewKeyring returns an empty working keyring.
func NewKeyring() *Keyring { return &Keyring{items: map[string]string{}} }

// Get implements vault.Keyring.
func (k *Keyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Calls++
	if k.Err != nil {
		return "", k.Err
	}
	s, ok := k.items[service+"/"+user]
	if !ok {
		return "", vault.ErrKeyringItemNotFound
	}
	return s, nil
}

// Set implements vault.Keyring.
func (k *Keyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Calls++
	if k.Err != nil {
		return k.Err
	}
	k.items[service+"/"+user] = secret
	return nil
}

// Delete implements vault.Keyring.
func (k *Keyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Calls++
	if k.Err != nil {
		return k.Err
	}
	if _, ok := k.items[service+"/"+user]; !ok {
		return vault.ErrKeyringItemNotFound
	}
	delete(k.items, service+"/"+user)
	return nil
}

// Len is the number of items stored.
func (k *Keyring) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.items)
}

// Errors to set as Keyring.Err, for the two ways an OS keyring fails.
var (
	// ErrNoKeyring is the error of a keyring that is not there (no Secret
	// Service on D-Bus, no D-Bus): Create with StoreAuto falls back to a
	// passphrase.
	ErrNoKeyring = errors.New("no keyring is running")
	// ErrKeyringLocked is the error of a keyring that is there but locked: it
	// matches vault.ErrKeyringLocked, and Create with StoreAuto fails with it.
	ErrKeyringLocked error = lockedError{}
)

type lockedError struct{}

func (lockedError) Error() string { return "the test keyring is locked" }

// Is matches vault.ErrKeyringLocked.
func (lockedError) Is(target error) bool { return target == vault.ErrKeyringLocked }

// Passphrase is the passphrase of vaults made by NewPassphrase.
const Passphrase = "correct horse battery staple"

// Options returns vault options for a fresh temporary folder and an
// in-memory keyring, with a cheap scrypt work factor.
func Options(t testing.TB) vault.Options {
	t.Helper()
	return vault.Options{Dir: t.TempDir(), Keyring: NewKeyring(), ScryptWorkFactor: 10}
}

// New creates a keyring vault in a temporary folder holding the given accounts.
func New(t testing.TB, accounts ...vault.Account) *vault.Vault {
	t.Helper()
	return create(t, Options(t), vault.StoreKeyring, accounts)
}

// NewPassphrase creates a passphrase vault (passphrase Passphrase) in a
// temporary folder holding the given accounts.
func NewPassphrase(t testing.TB, accounts ...vault.Account) *vault.Vault {
	t.Helper()
	o := Options(t)
	o.Passphrase = []byte(Passphrase)
	return create(t, o, vault.StorePassphrase, accounts)
}

// NewPassphraseIn creates a passphrase vault in dir with the given
// passphrase and accounts, at the cheap work factor of Options. Tests that
// drive the built sesame binary make their vault with it: the binary opens
// a vault at the work factor written in its file, so its commands then pay
// no production scrypt cost (commands that set a new passphrase still do).
func NewPassphraseIn(t testing.TB, dir, passphrase string, accounts ...vault.Account) *vault.Vault {
	t.Helper()
	o := Options(t)
	o.Dir, o.Passphrase = dir, []byte(passphrase)
	return create(t, o, vault.StorePassphrase, accounts)
}

func create(t testing.TB, o vault.Options, kind vault.StoreKind, accounts []vault.Account) *vault.Vault {
	t.Helper()
	v, err := vault.Create(o, kind)
	if err != nil {
		t.Fatalf("create vault: %v", err)
	}
	if len(accounts) > 0 {
		_, err = v.Update(func(d *vault.Data) error {
			for _, a := range accounts {
				if _, err := d.Add(a, time.Unix(1700000000, 0)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("add accounts: %v", err)
		}
	}
	return v
}

// Account returns a valid TOTP account with an obviously fake secret, for
// tests that need one.
func Account(issuer, name string) vault.Account {
	s, _ := vault.ParseSecret("JBSWY3DPEHPK3PXP")
	return vault.Account{Type: vault.TOTP, Issuer: issuer, Name: name, Secret: s}
}
