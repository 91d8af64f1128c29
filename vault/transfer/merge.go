package transfer

import (
	"errors"
	"fmt"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// Merge adds imported accounts to the vault data. Accounts the vault already
// has (same type, secret, issuer and name) are left out and returned as
// skipped. Any other failure returns an error: call Merge inside
// vault.Update, so that the error leaves the vault file untouched and the
// import stays all-or-nothing.
//
//	_, err := v.Update(func(d *vault.Data) error {
//		added, dups, err = transfer.Merge(d, res.Accounts, now)
//		return err
//	})
func Merge(d *vault.Data, accounts []vault.Account, now time.Time) (added []vault.Account, dups []Skip, err error) {
	for _, a := range accounts {
		got, err := d.Add(a, now)
		switch {
		case errors.Is(err, vault.ErrDuplicate):
			dups = append(dups, Skip{Label: a.Label(), Reason: "already in the vault"})
		case err != nil:
			return nil, nil, fmt.Errorf("add %s: %w", a.Label(), err)
		default:
			added = append(added, *got)
		}
	}
	return added, dups, nil
}
