package vault

import (
	"errors"
	"fmt"

	gokeyring "github.com/zalando/go-keyring"
)

// ErrKeyringItemNotFound is what a Keyring returns when the item does not exist.
var ErrKeyringItemNotFound = gokeyring.ErrNotFound

// SystemKeyring is the OS keyring: macOS Keychain, Windows Credential
// Manager or the Secret Service on Linux, through go-keyring.
type SystemKeyring struct{}

// Get reads an item.
func (SystemKeyring) Get(service, user string) (string, error) { return gokeyring.Get(service, user) }

// Set writes an item.
func (SystemKeyring) Set(service, user, secret string) error {
	return gokeyring.Set(service, user, secret)
}

// Delete removes an item.
func (SystemKeyring) Delete(service, user string) error { return gokeyring.Delete(service, user) }

// ProbeKeyring checks that the keyring works with a write-read-delete of a
// throwaway item. It returns why it does not.
func ProbeKeyring(k Keyring) error {
	const user = "probe"
	want := "probe-" + NewID()
	if err := k.Set(KeyringService, user, want); err != nil {
		return fmt.Errorf("cannot write to the OS keyring: %w", err)
	}
	got, err := k.Get(KeyringService, user)
	_ = k.Delete(KeyringService, user)
	if err != nil {
		return fmt.Errorf("cannot read from the OS keyring: %w", err)
	}
	if got != want {
		return errors.New("the OS keyring returned something other than what was stored")
	}
	return nil
}
