package vault

import (
	"errors"
	"fmt"
	"strings"

	gokeyring "github.com/zalando/go-keyring"
)

// ErrKeyringItemNotFound is what a Keyring returns when the item does not exist.
var ErrKeyringItemNotFound = gokeyring.ErrNotFound

// ErrKeyringLocked is matched by ProbeKeyring's error, and so by Create's
// with StoreAuto, when the OS keyring is there but locked. A Keyring's own
// errors may match it too, to say that the keyring is locked.
var ErrKeyringLocked = errors.New("the OS keyring is locked: unlock it and try again, or choose --store passphrase")

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
// throwaway item. It returns why it does not: an error matching
// ErrKeyringLocked when the keyring is there but locked (Create with
// StoreAuto then fails rather than fall back to a passphrase), any other
// error when there is no working keyring.
func ProbeKeyring(k Keyring) error {
	const user = "probe"
	want := "probe-" + NewID()
	if err := k.Set(KeyringService, user, want); err != nil {
		if keyringLocked(err) {
			return fmt.Errorf("%w (%v)", ErrKeyringLocked, err)
		}
		return fmt.Errorf("cannot write to the OS keyring: %w", err)
	}
	got, err := k.Get(KeyringService, user)
	_ = k.Delete(KeyringService, user)
	if err != nil {
		if keyringLocked(err) {
			return fmt.Errorf("%w (%v)", ErrKeyringLocked, err)
		}
		return fmt.Errorf("cannot read from the OS keyring: %w", err)
	}
	if got != want {
		return errors.New("the OS keyring returned something other than what was stored")
	}
	return nil
}

// secretServiceLocked starts the error go-keyring's Secret Service backend
// (Linux and the BSDs) returns when it cannot unlock the login collection:
// the collection is locked and no prompt unlocked it (none could be shown,
// or the user dismissed it). With no login collection at all, go-keyring
// names the default alias (".../aliases/default") instead; gnome-keyring
// started on demand with no keyring set up (a headless session) answers that
// way, so that is taken as no keyring, like no Secret Service or no D-Bus.
// go-keyring's macOS and Windows backends report no locked state apart from
// other failures.
const secretServiceLocked = "failed to unlock correct collection '/org/freedesktop/secrets/collection/"

// keyringLocked reports whether err says the keyring is there but locked.
func keyringLocked(err error) bool {
	return errors.Is(err, ErrKeyringLocked) || strings.Contains(err.Error(), secretServiceLocked)
}
