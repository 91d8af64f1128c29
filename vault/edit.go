package vault

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The account and pairing rules every front-end shares: the CLI and the TUI
// call these inside Vault.Update rather than editing Data by hand, so that a
// rename, a move or a passphrase is judged the same way everywhere.

// MinPassphraseLength is the fewest characters a new vault passphrase may have.
const MinPassphraseLength = 8

// ErrPassphraseTooShort is returned by CheckPassphrase.
var ErrPassphraseTooShort = fmt.Errorf("the passphrase must be at least %d characters: anyone with a copy of the vault file can try to guess it offline", MinPassphraseLength)

// ErrPairingNotFound is returned when no pairing has the given ID.
var ErrPairingNotFound = errors.New("no pairing matches: it may have been removed in another window (see sesame devices)")

// CheckPassphrase says whether p may protect a vault or its recovery: it
// applies to new passphrases only, never to one that opens an existing vault.
func CheckPassphrase(p []byte) error {
	if len([]rune(string(p))) < MinPassphraseLength {
		return ErrPassphraseTooShort
	}
	return nil
}

// Rename sets the issuer, the name or both (nil leaves a field as it is) of
// the account with the given ID. The result is normalized and validated, and
// a rename into another account of the vault is refused with ErrDuplicate.
func (d *Data) Rename(id string, issuer, name *string) (*Account, error) {
	a, err := d.Account(id)
	if err != nil {
		return nil, err
	}
	c := *a
	if issuer != nil {
		c.Issuer = *issuer
	}
	if name != nil {
		c.Name = *name
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	for i := range d.Accounts {
		if d.Accounts[i].ID != id && d.Accounts[i].SameAs(&c) {
			return nil, fmt.Errorf("%w: %s", ErrDuplicate, c.Label())
		}
	}
	*a = c
	return a, nil
}

// Move swaps the places of two accounts in the vault's order.
func (d *Data) Move(id, other string) error {
	i, j := d.index(id), d.index(other)
	if i < 0 || j < 0 {
		return ErrNotFound
	}
	d.Accounts[i], d.Accounts[j] = d.Accounts[j], d.Accounts[i]
	return nil
}

// TogglePin pins an unpinned account and unpins a pinned one.
func (d *Data) TogglePin(id string) (*Account, error) {
	a, err := d.Account(id)
	if err != nil {
		return nil, err
	}
	a.Pinned = !a.Pinned
	return a, nil
}

// Restore puts back an account that Remove took out, at index (clamped to
// the vault's length) where it was. Like Add it refuses a duplicate: the
// same account added again in the meantime.
func (d *Data) Restore(a Account, index int, now time.Time) (*Account, error) {
	if _, err := d.Add(a, now); err != nil {
		return nil, err
	}
	last := len(d.Accounts) - 1
	acct := d.Accounts[last]
	i := min(max(index, 0), last)
	d.Accounts = slices.Insert(d.Accounts[:last], i, acct)
	return &d.Accounts[i], nil
}

// SetPaused pauses (or resumes) the sign-in requests of the pairing with
// the given ID.
func (d *Data) SetPaused(id string, paused bool) (*Pairing, error) {
	for i := range d.Pairings {
		if d.Pairings[i].ID == id {
			d.Pairings[i].Paused = paused
			return &d.Pairings[i], nil
		}
	}
	return nil, ErrPairingNotFound
}

// TogglePaused pauses a running pairing and resumes a paused one.
func (d *Data) TogglePaused(id string) (*Pairing, error) {
	for i := range d.Pairings {
		if d.Pairings[i].ID == id {
			return d.SetPaused(id, !d.Pairings[i].Paused)
		}
	}
	return nil, ErrPairingNotFound
}
