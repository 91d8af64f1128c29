package transfer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// Merge adds imported accounts to the vault data. Accounts the vault already
// has (same type, secret, issuer and name) are left out and returned as
// skipped; when the vault's copy has another algorithm, number of digits,
// period or counter, the skip reason says which, so that a user importing a
// corrected export knows to remove the old account first. Any other failure returns an error: call Merge inside
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
			reason := "already in the vault"
			a.Normalize()
			for i := range d.Accounts {
				if d.Accounts[i].SameAs(&a) {
					if diff := settingsDiff(&d.Accounts[i], &a); diff != "" {
						reason = "already in the vault with other settings: " + diff + "; remove it first to replace it"
					}
					break
				}
			}
			dups = append(dups, Skip{Label: a.Label(), Reason: reason})
		case err != nil:
			return nil, nil, fmt.Errorf("add %s: %w", a.Label(), err)
		default:
			added = append(added, *got)
		}
	}
	return added, dups, nil
}

// settingsDiff describes how the code settings of two copies of one account
// differ ("period 30 s there, 60 s here"), or returns "" when they do not.
// there is the copy already kept, here the one being imported.
func settingsDiff(there, here *vault.Account) string {
	var d []string
	if there.Algorithm != here.Algorithm {
		d = append(d, fmt.Sprintf("algorithm %s there, %s here", there.Algorithm, here.Algorithm))
	}
	if there.Digits != here.Digits {
		d = append(d, fmt.Sprintf("%d digits there, %d here", there.Digits, here.Digits))
	}
	if there.Period != here.Period {
		d = append(d, fmt.Sprintf("period %d s there, %d s here", there.Period, here.Period))
	}
	if there.Type == vault.HOTP && there.Counter != here.Counter {
		d = append(d, fmt.Sprintf("counter %d there, %d here", there.Counter, here.Counter))
	}
	return strings.Join(d, ", ")
}
